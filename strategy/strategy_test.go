package strategy

import (
	"slices"
	"testing"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

func TestDescribe(t *testing.T) {
	w20, w50 := 20, 50
	canary := spec.AppSpec{Strategy: spec.Strategy{Type: spec.Canary, Canary: &spec.CanaryStrategy{Steps: []spec.CanaryStep{
		{SetWeight: &w20}, {Pause: &spec.PauseStep{Duration: "30s"}}, {SetWeight: &w50}, {Pause: &spec.PauseStep{}},
	}}}}
	defaultSteps := spec.AppSpec{Strategy: spec.Strategy{Type: spec.Canary, Canary: &spec.CanaryStrategy{Steps: spec.DefaultCanarySteps()}}}
	blueGreen := spec.AppSpec{Strategy: spec.Strategy{Type: spec.BlueGreen, BlueGreen: &spec.BlueGreenStrategy{PreviewListen: "127.0.0.1:9001"}}}
	tests := []struct {
		name string
		spec spec.AppSpec
		want rollout.Description
	}{
		{"rolling, the default: judged, the last old instance kept as the baseline", spec.AppSpec{}, rollout.Description{
			Steps: []string{"rolling update", "judging against the last old instance"}, Analysis: true,
		}},
		{"canary: its steps and the full promotion", canary, rollout.Description{
			Steps:    []string{"setWeight 20%", "pause 30s", "setWeight 50%", "pause until promoted", "promote fully"},
			Analysis: true,
		}},
		{"canary without steps: the default steps", spec.AppSpec{Strategy: spec.Strategy{Type: spec.Canary}}, rollout.Description{
			Steps:    Canary{}.Describe(defaultSteps).Steps,
			Analysis: true,
		}},
		{"blue-green: five steps, a preview listener", blueGreen, rollout.Description{
			Steps:    []string{"deploy green", "smoke tests", "promotion", "scale-down delay", "decommission blue"},
			Analysis: true, Preview: true, PreviewListen: "127.0.0.1:9001",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Describe(tt.spec)
			if !ok {
				t.Fatalf("no strategy for %s", tt.spec.StrategyType())
			}
			if !slices.Equal(got.Steps, tt.want.Steps) || got.Analysis != tt.want.Analysis ||
				got.Preview != tt.want.Preview || got.PreviewListen != tt.want.PreviewListen {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, ok := Describe(spec.AppSpec{Strategy: spec.Strategy{Type: "Sideways"}}); ok {
		t.Error("Describe of an unknown strategy type: ok, want not ok")
	}
}

// TestDescribe_LastStepIsTheEnd checks each strategy's plan at the
// description's last step: it moves everything to the new revision, which
// is what a full promotion promises.
func TestDescribe_LastStepIsTheEnd(t *testing.T) {
	for typ, s := range All() {
		t.Run(string(typ), func(t *testing.T) {
			sp := spec.AppSpec{Strategy: spec.Strategy{Type: typ}}.WithDefaults()
			want := sp.ReplicaCount()
			d := s.Describe(sp)
			plan := s.Plan(rollout.PlanInput{
				Spec: sp, Target: 2, Stable: 1, Step: d.LastStep(),
				Revisions: []rollout.RevisionCount{{Revision: 2, Total: want, Ready: want, Available: want}},
			})
			if !plan.Complete {
				t.Errorf("plan at step %d (%s) is not complete with only the new revision up: %s",
					d.LastStep(), d.Steps[d.LastStep()], plan.Message)
			}
		})
	}
}
