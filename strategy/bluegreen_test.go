package strategy

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

func blueGreenSpec(replicas int, auto bool, delaySeconds int) spec.AppSpec {
	return spec.AppSpec{
		Replicas: &replicas,
		Strategy: spec.Strategy{Type: spec.BlueGreen, BlueGreen: &spec.BlueGreenStrategy{
			AutoPromotion: &auto, ScaleDownDelaySeconds: &delaySeconds,
			SmokeTests: []spec.SmokeTest{{Path: "/health"}, {Path: "/ready"}},
		}},
	}
}

func TestBlueGreen_Plan(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	auto := blueGreenSpec(3, true, 30)
	manual := blueGreenSpec(3, false, 30)
	blueOnly := map[int]int{1: 100}
	greenOnly := map[int]int{2: 100}
	both := map[int]int{1: 3, 2: 3}

	tests := []struct {
		name     string
		spec     spec.AppSpec
		stable   int
		step     int
		now      time.Time // zero: t0
		revs     []rollout.RevisionCount
		analysis rollout.AnalysisResult

		wantReplicas map[int]int
		wantWeights  map[int]int
		wantPreview  int
		wantStep     int
		wantSmoke    bool
		wantPause    bool
		wantComplete bool
		wantMessage  string
	}{
		{
			name: "deploy: green scales up beside blue, blue serves",
			spec: auto, stable: 1, step: BlueGreenDeploy,
			revs:         []rollout.RevisionCount{up(1, 3)},
			wantReplicas: both, wantWeights: blueOnly, wantPreview: 2,
			wantStep: BlueGreenDeploy, wantMessage: "0/3 available",
		},
		{
			name: "deploy: green partly available waits",
			spec: auto, stable: 1, step: BlueGreenDeploy,
			revs:         []rollout.RevisionCount{up(1, 3), {Revision: 2, Total: 3, Ready: 3, Available: 2}},
			wantReplicas: both, wantWeights: blueOnly, wantPreview: 2,
			wantStep: BlueGreenDeploy, wantMessage: "2/3 available",
		},
		{
			name: "deploy: green up moves to the smoke tests",
			spec: auto, stable: 1, step: BlueGreenDeploy,
			revs:         []rollout.RevisionCount{up(1, 3), up(2, 3)},
			wantReplicas: both, wantWeights: blueOnly, wantPreview: 2,
			wantStep: BlueGreenSmoke, wantMessage: "green (revision 2) is up",
		},
		{
			name: "smoke: asks the engine to run the smoke tests",
			spec: auto, stable: 1, step: BlueGreenSmoke,
			revs:         []rollout.RevisionCount{up(1, 3), up(2, 3)},
			wantReplicas: both, wantWeights: blueOnly, wantPreview: 2,
			wantStep: BlueGreenSmoke, wantSmoke: true, wantMessage: "running 2 smoke test(s)",
		},
		{
			name: "promote, automatic: switches",
			spec: auto, stable: 1, step: BlueGreenPromote,
			revs:         []rollout.RevisionCount{up(1, 3), up(2, 3)},
			wantReplicas: both, wantWeights: blueOnly, wantPreview: 2,
			wantStep: BlueGreenSwitched, wantMessage: "switching traffic to green",
		},
		{
			name: "promote, manual: pauses until promoted",
			spec: manual, stable: 1, step: BlueGreenPromote,
			revs:         []rollout.RevisionCount{up(1, 3), up(2, 3)},
			wantReplicas: both, wantWeights: blueOnly, wantPreview: 2,
			wantStep: BlueGreenPromote, wantPause: true, wantMessage: "waiting for promotion",
		},
		{
			name: "switched: green serves, blue kept through the delay",
			spec: auto, stable: 1, step: BlueGreenSwitched, now: t0.Add(10 * time.Second),
			analysis:     rollout.AnalysisResult{Message: "watching"},
			revs:         []rollout.RevisionCount{up(1, 3), up(2, 3)},
			wantReplicas: both, wantWeights: greenOnly,
			wantStep: BlueGreenSwitched, wantMessage: "for 20s more; analysis: watching",
		},
		{
			name: "switched: delay over moves to the cleanup",
			spec: auto, stable: 1, step: BlueGreenSwitched, now: t0.Add(30 * time.Second),
			revs:         []rollout.RevisionCount{up(1, 3), up(2, 3)},
			wantReplicas: both, wantWeights: greenOnly,
			wantStep: BlueGreenCleanup, wantMessage: "decommissioning blue",
		},
		{
			name: "cleanup: blue scaled away",
			spec: auto, stable: 1, step: BlueGreenCleanup,
			revs:         []rollout.RevisionCount{up(1, 3), up(2, 3)},
			wantReplicas: map[int]int{2: 3}, wantWeights: greenOnly,
			wantStep: BlueGreenCleanup, wantMessage: "3 instance(s) remaining",
		},
		{
			name: "cleanup: complete once blue is gone",
			spec: auto, stable: 1, step: BlueGreenCleanup,
			revs:         []rollout.RevisionCount{up(2, 3)},
			wantReplicas: map[int]int{2: 3}, wantWeights: greenOnly,
			wantStep: BlueGreenCleanup, wantComplete: true,
		},
		{
			name: "cleanup: not complete while green is short of available instances",
			spec: auto, stable: 1, step: BlueGreenCleanup,
			revs:         []rollout.RevisionCount{{Revision: 2, Total: 3, Ready: 2, Available: 2}},
			wantReplicas: map[int]int{2: 3}, wantWeights: greenOnly,
			wantStep: BlueGreenCleanup,
		},
		{
			name: "default blue-green settings: automatic, 30s delay",
			spec: spec.AppSpec{Strategy: spec.Strategy{Type: spec.BlueGreen}}, stable: 1, step: BlueGreenPromote,
			revs:         []rollout.RevisionCount{up(1, 3), up(2, 3)},
			wantReplicas: both, wantWeights: blueOnly, wantPreview: 2,
			wantStep: BlueGreenSwitched,
		},
		{
			name: "first deploy: no blue to keep or weigh",
			spec: auto, stable: 0, step: BlueGreenDeploy,
			revs:         []rollout.RevisionCount{up(2, 3)},
			wantReplicas: map[int]int{2: 3}, wantWeights: nil, wantPreview: 2,
			wantStep: BlueGreenSmoke,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := rollout.PlanInput{
				Now: tt.now, Spec: tt.spec, Target: 2, Stable: tt.stable,
				Step: tt.step, StepStartedAt: t0, Revisions: tt.revs, Analysis: tt.analysis,
			}
			if in.Now.IsZero() {
				in.Now = t0
			}
			got := BlueGreen{}.Plan(in)
			if !maps.Equal(got.Replicas, tt.wantReplicas) {
				t.Errorf("replicas = %v, want %v", got.Replicas, tt.wantReplicas)
			}
			if !maps.Equal(got.Traffic.Weights, tt.wantWeights) {
				t.Errorf("weights = %v, want %v", got.Traffic.Weights, tt.wantWeights)
			}
			if got.Traffic.Preview != tt.wantPreview {
				t.Errorf("preview = %d, want %d", got.Traffic.Preview, tt.wantPreview)
			}
			if got.Step != tt.wantStep {
				t.Errorf("step = %d, want %d (message %q)", got.Step, tt.wantStep, got.Message)
			}
			if got.SmokeTests != tt.wantSmoke {
				t.Errorf("smoke tests = %v, want %v", got.SmokeTests, tt.wantSmoke)
			}
			if got.Pause != tt.wantPause {
				t.Errorf("pause = %v, want %v", got.Pause, tt.wantPause)
			}
			if got.Complete != tt.wantComplete {
				t.Errorf("complete = %v, want %v (message %q)", got.Complete, tt.wantComplete, got.Message)
			}
			if !strings.Contains(got.Message, tt.wantMessage) {
				t.Errorf("message = %q, want it to contain %q", got.Message, tt.wantMessage)
			}
		})
	}
}
