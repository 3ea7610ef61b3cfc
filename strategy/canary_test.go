package strategy

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

func setWeight(w int) spec.CanaryStep { return spec.CanaryStep{SetWeight: &w} }

func pause(d string) spec.CanaryStep { return spec.CanaryStep{Pause: &spec.PauseStep{Duration: d}} }

// canarySpec is a canary compared with the stable revision's primary
// instances (analysis.baseline: primary).
func canarySpec(replicas int, steps ...spec.CanaryStep) spec.AppSpec {
	s := likeForLikeSpec(replicas, steps...)
	s.Analysis = &spec.AnalysisSpec{Baseline: spec.BaselinePrimary}
	return s
}

// likeForLikeSpec is a canary with the default like-for-like baseline.
func likeForLikeSpec(replicas int, steps ...spec.CanaryStep) spec.AppSpec {
	return spec.AppSpec{
		Replicas: &replicas,
		Strategy: spec.Strategy{Type: spec.Canary, Canary: &spec.CanaryStrategy{Steps: steps}},
	}
}

// up counts n instances of rev, all available.
func up(rev, n int) rollout.RevisionCount {
	return rollout.RevisionCount{Revision: rev, Total: n, Ready: n, Available: n}
}

// starting counts n instances of rev, none ready yet.
func starting(rev, n int) rollout.RevisionCount {
	return rollout.RevisionCount{Revision: rev, Total: n}
}

func TestCanary_Plan(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	promote := rollout.AnalysisResult{Promote: true, Message: "canary not worse: 812 requests"}
	hold := rollout.AnalysisResult{Message: "need ≥ 500 canary requests, have 212"}
	// 5% → pause 30s → 25% → 50% → pause (until promoted) → 100%.
	steps := canarySpec(3, setWeight(5), pause("30s"), setWeight(25), setWeight(50), pause(""), setWeight(100))

	tests := []struct {
		name      string
		spec      spec.AppSpec
		stable    int
		step      int
		startedAt time.Time // zero: t0
		now       time.Time // zero: t0
		revs      []rollout.RevisionCount
		analysis  rollout.AnalysisResult

		wantReplicas map[int]int
		wantWeights  map[int]int
		wantStep     int
		wantPause    bool
		wantComplete bool
		// wantMessage must appear in the plan's message.
		wantMessage string
	}{
		{
			name: "setWeight 5: one canary instance, stable keeps 3, waiting for it",
			spec: steps, stable: 1, step: 0,
			revs:         []rollout.RevisionCount{up(1, 3)},
			wantReplicas: map[int]int{1: 3, 2: 1}, wantWeights: map[int]int{1: 100, 2: 0},
			wantStep: 0, wantMessage: "waiting for canary instances, 0/1 available",
		},
		{
			name: "setWeight 5: canary instance started but not available yet",
			spec: steps, stable: 1, step: 0,
			revs:         []rollout.RevisionCount{up(1, 3), starting(2, 1)},
			wantReplicas: map[int]int{1: 3, 2: 1}, wantWeights: map[int]int{1: 100, 2: 0},
			wantStep: 0, wantMessage: "waiting for canary instances",
		},
		{
			name: "setWeight 5 followed by a pause advances without evidence",
			spec: steps, stable: 1, step: 0, analysis: hold,
			revs:         []rollout.RevisionCount{up(1, 3), up(2, 1)},
			wantReplicas: map[int]int{1: 3, 2: 1}, wantWeights: map[int]int{1: 95, 2: 5},
			wantStep: 1, wantMessage: "setWeight 5% done",
		},
		{
			name: "timed pause: time left",
			spec: steps, stable: 1, step: 1, now: t0.Add(10 * time.Second), analysis: promote,
			revs:         []rollout.RevisionCount{up(1, 3), up(2, 1)},
			wantReplicas: map[int]int{1: 3, 2: 1}, wantWeights: map[int]int{1: 95, 2: 5},
			wantStep: 1, wantMessage: "20s left",
		},
		{
			name: "timed pause: over but holding for evidence",
			spec: steps, stable: 1, step: 1, now: t0.Add(31 * time.Second), analysis: hold,
			revs:         []rollout.RevisionCount{up(1, 3), up(2, 1)},
			wantReplicas: map[int]int{1: 3, 2: 1}, wantWeights: map[int]int{1: 95, 2: 5},
			wantStep: 1, wantMessage: "holding for evidence: " + hold.Message,
		},
		{
			name: "timed pause: over with evidence moves to the next step",
			spec: steps, stable: 1, step: 1, now: t0.Add(31 * time.Second), analysis: promote,
			revs:         []rollout.RevisionCount{up(1, 3), up(2, 1)},
			wantReplicas: map[int]int{1: 3, 2: 1}, wantWeights: map[int]int{1: 95, 2: 5},
			wantStep: 2, wantMessage: promote.Message,
		},
		{
			name: "setWeight 25 followed by a setWeight holds without evidence",
			spec: steps, stable: 1, step: 2, analysis: hold,
			revs:         []rollout.RevisionCount{up(1, 3), up(2, 1)},
			wantReplicas: map[int]int{1: 3, 2: 1}, wantWeights: map[int]int{1: 75, 2: 25},
			wantStep: 2, wantMessage: "holding for evidence: " + hold.Message,
		},
		{
			name: "setWeight 25 followed by a setWeight advances with evidence",
			spec: steps, stable: 1, step: 2, analysis: promote,
			revs:         []rollout.RevisionCount{up(1, 3), up(2, 1)},
			wantReplicas: map[int]int{1: 3, 2: 1}, wantWeights: map[int]int{1: 75, 2: 25},
			wantStep: 3, wantMessage: "setWeight 25% done",
		},
		{
			name: "setWeight 50 needs two canary instances; one carries 25% meanwhile",
			spec: steps, stable: 1, step: 3, analysis: promote,
			revs:         []rollout.RevisionCount{up(1, 3), rollout.RevisionCount{Revision: 2, Total: 2, Ready: 1, Available: 1}},
			wantReplicas: map[int]int{1: 3, 2: 2}, wantWeights: map[int]int{1: 75, 2: 25},
			wantStep: 3, wantMessage: "1/2 available",
		},
		{
			name: "untimed pause asks the engine to pause",
			spec: steps, stable: 1, step: 4, now: t0.Add(time.Hour), analysis: promote,
			revs:         []rollout.RevisionCount{up(1, 3), up(2, 2)},
			wantReplicas: map[int]int{1: 3, 2: 2}, wantWeights: map[int]int{1: 50, 2: 50},
			wantStep: 4, wantPause: true, wantMessage: "until promoted",
		},
		{
			name: "setWeight 100 needs no evidence",
			spec: steps, stable: 1, step: 5, analysis: hold,
			revs:         []rollout.RevisionCount{up(1, 3), up(2, 3)},
			wantReplicas: map[int]int{1: 3, 2: 3}, wantWeights: map[int]int{1: 0, 2: 100},
			wantStep: 6,
		},
		{
			name: "full promotion: canary scales to the replica count, old split kept",
			spec: canarySpec(3, setWeight(20)), stable: 1, step: 1,
			revs:         []rollout.RevisionCount{up(1, 3), up(2, 1)},
			wantReplicas: map[int]int{1: 3, 2: 3}, wantWeights: map[int]int{1: 80, 2: 20},
			wantStep: 1, wantMessage: "scaling the canary to 3, 1/3 available",
		},
		{
			name: "full promotion: canary available takes all traffic, stable scaled away",
			spec: canarySpec(3, setWeight(20)), stable: 1, step: 1,
			revs:         []rollout.RevisionCount{up(1, 3), up(2, 3)},
			wantReplicas: map[int]int{2: 3}, wantWeights: map[int]int{2: 100},
			wantStep: 1, wantMessage: "3 old instance(s) remaining",
		},
		{
			name: "full promotion: an instance of an older revision still runs",
			spec: canarySpec(3, setWeight(20)), stable: 1, step: 1,
			revs:         []rollout.RevisionCount{starting(7, 1), up(2, 3)},
			wantReplicas: map[int]int{2: 3}, wantWeights: map[int]int{2: 100},
			wantStep: 1,
		},
		{
			name: "full promotion: complete once no other instance remains",
			spec: canarySpec(3, setWeight(20)), stable: 1, step: 1,
			revs:         []rollout.RevisionCount{up(2, 3)},
			wantReplicas: map[int]int{2: 3}, wantWeights: map[int]int{2: 100},
			wantStep: 1, wantComplete: true,
		},
		{
			name: "default steps when none given: 5%, then a 30s pause",
			spec: canarySpec(10), stable: 1, step: 0,
			revs:         []rollout.RevisionCount{up(1, 10), up(2, 1)},
			wantReplicas: map[int]int{1: 10, 2: 1}, wantWeights: map[int]int{1: 95, 2: 5},
			wantStep: 1, wantMessage: "step 1/7",
		},
		{
			name: "default steps when none given: 25% of 10 needs 3 instances",
			spec: canarySpec(10), stable: 1, step: 2,
			revs:         []rollout.RevisionCount{up(1, 10), up(2, 3)},
			wantReplicas: map[int]int{1: 10, 2: 3}, wantWeights: map[int]int{1: 75, 2: 25},
			wantStep: 3,
		},
		{
			name: "first deploy: no stable revision to keep or weigh",
			spec: steps, stable: 0, step: 0,
			revs:         []rollout.RevisionCount{up(2, 1)},
			wantReplicas: map[int]int{2: 1}, wantWeights: map[int]int{2: 5},
			wantStep: 1,
		},
		{
			name: "first deploy: full promotion completes alone",
			spec: canarySpec(3, setWeight(20)), stable: 0, step: 1,
			revs:         []rollout.RevisionCount{up(2, 3)},
			wantReplicas: map[int]int{2: 3}, wantWeights: map[int]int{2: 100},
			wantStep: 1, wantComplete: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := rollout.PlanInput{
				Now: tt.now, Spec: tt.spec, Target: 2, Stable: tt.stable,
				Step: tt.step, StepStartedAt: tt.startedAt, Revisions: tt.revs, Analysis: tt.analysis,
			}
			if in.Now.IsZero() {
				in.Now = t0
			}
			if in.StepStartedAt.IsZero() {
				in.StepStartedAt = t0
			}
			got := Canary{}.Plan(in)
			if !maps.Equal(got.Replicas, tt.wantReplicas) {
				t.Errorf("replicas = %v, want %v", got.Replicas, tt.wantReplicas)
			}
			if !maps.Equal(got.Traffic.Weights, tt.wantWeights) {
				t.Errorf("weights = %v, want %v", got.Traffic.Weights, tt.wantWeights)
			}
			if got.Step != tt.wantStep {
				t.Errorf("step = %d, want %d (message %q)", got.Step, tt.wantStep, got.Message)
			}
			if got.Pause != tt.wantPause {
				t.Errorf("pause = %v, want %v", got.Pause, tt.wantPause)
			}
			if got.Complete != tt.wantComplete {
				t.Errorf("complete = %v, want %v (message %q)", got.Complete, tt.wantComplete, got.Message)
			}
			if got.SmokeTests {
				t.Errorf("smoke tests requested by a canary")
			}
			if !strings.Contains(got.Message, tt.wantMessage) {
				t.Errorf("message = %q, want it to contain %q", got.Message, tt.wantMessage)
			}
		})
	}
}

// TestCanary_Simulate runs the planner through the default steps against
// an idealised backend in which every instance asked for becomes available
// on the next step, with an analysis that always promotes and a clock that
// advances one second per step. At every step it checks: the weights sum to
// 100; the canary never gets more traffic than its available instances can
// carry; the stable revision keeps its full count until the canary can
// take everything; and the rollout completes with only the canary running.
//
// With the like-for-like baseline it also checks that the baseline gets
// traffic only with its instances available, as much as the canary's
// (at most the rest), and is gone at the end.
func TestCanary_Simulate(t *testing.T) {
	for _, c := range []struct {
		replicas    int
		likeForLike bool
	}{{1, false}, {3, false}, {10, false}, {1, true}, {3, true}, {10, true}} {
		replicas := c.replicas
		s := canarySpec(replicas)
		if c.likeForLike {
			s = likeForLikeSpec(replicas)
		}
		t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
		now, stepStarted, step := t0, t0, 0
		var baseline rollout.RevisionCount
		state := map[int]rollout.RevisionCount{1: up(1, replicas)}
		analysis := rollout.AnalysisResult{Promote: true, Message: "not worse"}
		steps := len(spec.DefaultCanarySteps())
		for tick := 0; ; tick++ {
			if tick > 1000 {
				t.Fatalf("%d replicas: no completion after 1000 ticks: step %d, %v", replicas, step, state)
			}
			var revs []rollout.RevisionCount
			for _, c := range state {
				revs = append(revs, c)
			}
			p := Canary{}.Plan(rollout.PlanInput{
				Now: now, Spec: s, Target: 2, Stable: 1,
				Step: step, StepStartedAt: stepStarted, Revisions: revs, Analysis: analysis, Baseline: baseline,
			})
			if p.Pause {
				t.Fatalf("%d replicas, step %d: the default steps have no untimed pause", replicas, step)
			}
			if p.Complete {
				if len(state) != 1 || state[2].Available != replicas || baseline.Total != 0 {
					t.Fatalf("%d replicas: complete with %v, baseline %v", replicas, state, baseline)
				}
				if step != steps {
					t.Errorf("%d replicas: complete at step %d, want %d", replicas, step, steps)
				}
				break
			}
			sum := p.Traffic.Baseline
			for _, w := range p.Traffic.Weights {
				sum += w
			}
			if sum != 100 {
				t.Fatalf("%d replicas, step %d: weights %v and baseline %d sum to %d", replicas, step, p.Traffic.Weights, p.Traffic.Baseline, sum)
			}
			if b := p.Traffic.Baseline; b > 0 && (!c.likeForLike || baseline.Available == 0 || b != min(p.Traffic.Weights[2], 100-p.Traffic.Weights[2])) {
				t.Fatalf("%d replicas, step %d: baseline gets %d%% beside the canary's %d%% with %d available instance(s)", replicas, step, b, p.Traffic.Weights[2], baseline.Available)
			}
			if p.Baseline != 0 && (!c.likeForLike || p.Baseline != p.Replicas[2]) {
				t.Fatalf("%d replicas, step %d: baseline of %d instance(s) beside %d canary instance(s)", replicas, step, p.Baseline, p.Replicas[2])
			}
			canary := state[2].Available
			if w := p.Traffic.Weights[2]; w*replicas > canary*100 {
				t.Fatalf("%d replicas, step %d: canary gets %d%% with %d available instance(s)", replicas, step, w, canary)
			}
			if p.Replicas[1] != replicas && canary < replicas {
				t.Fatalf("%d replicas, step %d: stable scaled to %d while the canary has %d available",
					replicas, step, p.Replicas[1], canary)
			}
			if p.Traffic.Weights[1] > 0 && state[1].Available == 0 {
				t.Fatalf("%d replicas, step %d: stable gets traffic with no instance", replicas, step)
			}

			// Scale-downs are instant; an instance that existed on this tick is
			// available on the next, a new one is not yet.
			next := map[int]rollout.RevisionCount{}
			for n, k := range p.Replicas {
				if k == 0 {
					continue
				}
				avail := min(k, state[n].Total)
				next[n] = rollout.RevisionCount{Revision: n, Total: k, Ready: avail, Available: avail}
			}
			state = next
			avail := min(p.Baseline, baseline.Total)
			baseline = rollout.RevisionCount{Revision: 1, Total: p.Baseline, Ready: avail, Available: avail}
			now = now.Add(time.Second)
			if p.Step != step {
				step, stepStarted = p.Step, now
			}
		}
	}
}
