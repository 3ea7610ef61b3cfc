package strategy

import (
	"slices"
	"testing"
	"time"

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

// TestPlan_ObservationCountsFromWatchedSince checks the steps that wait to
// observe the new revision: after a restart of gantry (or of one of the
// new revision's instances) their time starts again, so time nobody
// watched never promotes.
func TestPlan_ObservationCountsFromWatchedSince(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	w50 := 50
	canary := spec.AppSpec{Strategy: spec.Strategy{Type: spec.Canary, Canary: &spec.CanaryStrategy{Steps: []spec.CanaryStep{
		{SetWeight: &w50}, {Pause: &spec.PauseStep{Duration: "30s"}},
	}}}}
	tests := []struct {
		name     string
		s        rollout.Strategy
		spec     spec.AppSpec
		step     int
		watched  time.Time // zero: never restarted
		exited   bool      // an instance of the target exited in the step
		wantStep int
	}{
		{"blue-green delay over, never restarted", BlueGreen{}, blueGreenSpec(3, true, 30), BlueGreenSwitched, time.Time{}, false, BlueGreenCleanup},
		{"blue-green delay over by the clock, restarted 10s ago", BlueGreen{}, blueGreenSpec(3, true, 30), BlueGreenSwitched, t0.Add(30 * time.Second), false, BlueGreenSwitched},
		{"blue-green watched for the whole delay after a restart", BlueGreen{}, blueGreenSpec(3, true, 30), BlueGreenSwitched, t0.Add(10 * time.Second), false, BlueGreenCleanup},
		{"canary pause over, never restarted", Canary{}, canary, 1, time.Time{}, false, 2},
		{"canary pause over by the clock, restarted 10s ago", Canary{}, canary, 1, t0.Add(30 * time.Second), false, 1},
		{"blue-green delay watched once after a crash", BlueGreen{}, blueGreenSpec(3, true, 30), BlueGreenSwitched, t0.Add(10 * time.Second), true, BlueGreenSwitched},
		{"blue-green delay watched twice after a crash", BlueGreen{}, blueGreenSpec(3, true, 20), BlueGreenSwitched, t0.Add(0 * time.Second), true, BlueGreenCleanup},
		{"canary pause watched once after a crash", Canary{}, canary, 1, t0.Add(5 * time.Second), true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := tt.spec.WithDefaults()
			want := sp.ReplicaCount()
			plan := tt.s.Plan(rollout.PlanInput{
				Now: t0.Add(40 * time.Second), Spec: sp, Target: 2, Stable: 1,
				Step: tt.step, StepStartedAt: t0, WatchedSince: tt.watched, TargetExited: tt.exited,
				Revisions: []rollout.RevisionCount{up(1, want), up(2, want)},
				Analysis:  rollout.AnalysisResult{Promote: true, Message: "fine"},
			})
			if plan.Step != tt.wantStep {
				t.Errorf("step = %d, want %d (%s)", plan.Step, tt.wantStep, plan.Message)
			}
		})
	}
}
