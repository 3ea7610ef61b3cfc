package strategy

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/rollout"
)

// TestCanary_LikeForLikeBaseline checks the baseline a canary step asks
// for by default: as many fresh stable instances as the canary's, the
// canary's weight (at most the rest), traffic only once they are
// available, and none at the full promotion.
func TestCanary_LikeForLikeBaseline(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	promote := rollout.AnalysisResult{Promote: true, Message: "canary not worse"}
	s := likeForLikeSpec(4, setWeight(5), pause("30s"), setWeight(60), pause(""))
	tests := []struct {
		name         string
		step         int
		revs         []rollout.RevisionCount
		baseline     rollout.RevisionCount
		wantBaseline int
		wantTraffic  rollout.Traffic
		wantStep     int
		wantMessage  string
	}{
		{
			name: "5%: baseline starting with the canary, no traffic to either yet",
			revs: []rollout.RevisionCount{up(1, 4), starting(2, 1)}, baseline: starting(1, 1),
			wantBaseline: 1, wantTraffic: rollout.Traffic{Weights: map[int]int{1: 100, 2: 0}},
			wantMessage: "waiting for canary instances, 0/1 available, baseline 0/1",
		},
		{
			name: "5%: canary up but its baseline not yet: the step waits",
			revs: []rollout.RevisionCount{up(1, 4), up(2, 1)}, baseline: starting(1, 1),
			wantBaseline: 1, wantTraffic: rollout.Traffic{Weights: map[int]int{1: 100, 2: 0}},
			wantMessage: "baseline 0/1",
		},
		{
			name: "5%: both up: 90/5/5",
			revs: []rollout.RevisionCount{up(1, 4), up(2, 1)}, baseline: up(1, 1),
			wantBaseline: 1, wantTraffic: rollout.Traffic{Weights: map[int]int{1: 90, 2: 5}, Baseline: 5},
			wantStep: 1, wantMessage: "setWeight 5% done",
		},
		{
			name: "pause at 5% keeps the baseline",
			step: 1, revs: []rollout.RevisionCount{up(1, 4), up(2, 1)}, baseline: up(1, 1),
			wantBaseline: 1, wantTraffic: rollout.Traffic{Weights: map[int]int{1: 90, 2: 5}, Baseline: 5},
			wantStep: 1, wantMessage: "pause at 5%",
		},
		{
			name: "60%: baseline of 3 gets the rest, 40%; meanwhile 5% holds",
			step: 2, revs: []rollout.RevisionCount{up(1, 4), up(2, 1)}, baseline: up(1, 1),
			wantBaseline: 3, wantTraffic: rollout.Traffic{Weights: map[int]int{1: 90, 2: 5}, Baseline: 5},
			wantStep: 2, wantMessage: "1/3 available, baseline 1/3",
		},
		{
			name: "60% up: primary stable gets nothing",
			step: 2, revs: []rollout.RevisionCount{up(1, 4), up(2, 3)}, baseline: up(1, 3),
			wantBaseline: 3, wantTraffic: rollout.Traffic{Weights: map[int]int{1: 0, 2: 60}, Baseline: 40},
			wantStep: 3,
		},
		{
			name: "full promotion: no baseline",
			step: 4, revs: []rollout.RevisionCount{up(1, 4), up(2, 3)}, baseline: up(1, 3),
			wantBaseline: 0, wantTraffic: rollout.Traffic{Weights: map[int]int{1: 40, 2: 60}},
			wantStep: 4, wantMessage: "promoting",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Canary{}.Plan(rollout.PlanInput{
				Now: t0, Spec: s, Target: 2, Stable: 1, Step: tt.step, StepStartedAt: t0,
				Revisions: tt.revs, Baseline: tt.baseline, Analysis: promote,
			})
			if got.Baseline != tt.wantBaseline {
				t.Errorf("baseline = %d, want %d", got.Baseline, tt.wantBaseline)
			}
			if !maps.Equal(got.Traffic.Weights, tt.wantTraffic.Weights) || got.Traffic.Baseline != tt.wantTraffic.Baseline {
				t.Errorf("traffic = %+v, want %+v", got.Traffic, tt.wantTraffic)
			}
			if got.Step != tt.wantStep {
				t.Errorf("step = %d, want %d (message %q)", got.Step, tt.wantStep, got.Message)
			}
			if !strings.Contains(got.Message, tt.wantMessage) {
				t.Errorf("message = %q, want it to contain %q", got.Message, tt.wantMessage)
			}
		})
	}
	if d := (Canary{}).Describe(s); !d.Baseline {
		t.Errorf("Describe: Baseline false by default")
	}
	if d := (Canary{}).Describe(canarySpec(4)); d.Baseline {
		t.Errorf("Describe: Baseline true with analysis.baseline: primary")
	}
}
