package strategy

import (
	"maps"
	"testing"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

func rollingSpec(replicas int, surge, unavailable *spec.IntOrString) spec.AppSpec {
	return spec.AppSpec{
		Replicas: &replicas,
		Strategy: spec.Strategy{Type: spec.RollingUpdate, RollingUpdate: &spec.RollingUpdateStrategy{
			MaxSurge: surge, MaxUnavailable: unavailable,
		}},
	}
}

func TestRolling_Plan(t *testing.T) {
	plan := rollingSpec(3, spec.Int(1), spec.Int(0))
	tests := []struct {
		name         string
		target       int
		spec         spec.AppSpec
		revs         []rollout.RevisionCount
		want         map[int]int
		wantComplete bool
	}{
		{"first step surges one new instance", 2, plan,
			[]rollout.RevisionCount{{Revision: 1, Total: 3, Ready: 3, Available: 3}},
			map[int]int{1: 3, 2: 1}, false},
		{"new instance not yet available: wait", 2, plan,
			[]rollout.RevisionCount{{Revision: 1, Total: 3, Ready: 3, Available: 3}, {Revision: 2, Total: 1}},
			map[int]int{1: 3, 2: 1}, false},
		{"new instance available: stop one old", 2, plan,
			[]rollout.RevisionCount{{Revision: 1, Total: 3, Ready: 3, Available: 3}, {Revision: 2, Total: 1, Ready: 1, Available: 1}},
			map[int]int{1: 2, 2: 1}, false},
		{"old one gone: surge the next", 2, plan,
			[]rollout.RevisionCount{{Revision: 1, Total: 2, Ready: 2, Available: 2}, {Revision: 2, Total: 1, Ready: 1, Available: 1}},
			map[int]int{1: 2, 2: 2}, false},
		{"last old instance stops", 2, plan,
			[]rollout.RevisionCount{{Revision: 1, Total: 1, Ready: 1, Available: 1}, {Revision: 2, Total: 3, Ready: 3, Available: 3}},
			map[int]int{2: 3}, false},
		{"complete", 2, plan,
			[]rollout.RevisionCount{{Revision: 2, Total: 3, Ready: 3, Available: 3}},
			map[int]int{2: 3}, true},
		{"ready but not yet available for minReadySeconds keeps old", 2, plan,
			[]rollout.RevisionCount{{Revision: 1, Total: 3, Ready: 3, Available: 3}, {Revision: 2, Total: 1, Ready: 1, Available: 0}},
			map[int]int{1: 3, 2: 1}, false},
		{"unavailable old instances go first", 2, plan,
			[]rollout.RevisionCount{{Revision: 1, Total: 3, Ready: 2, Available: 2}, {Revision: 2, Total: 1, Ready: 1, Available: 1}},
			map[int]int{1: 2, 2: 1}, false},
		{"maxUnavailable 1, maxSurge 0: stop one old first", 2, rollingSpec(3, spec.Int(0), spec.Int(1)),
			[]rollout.RevisionCount{{Revision: 1, Total: 3, Ready: 3, Available: 3}},
			map[int]int{1: 2, 2: 0}, false},
		{"maxUnavailable 1, maxSurge 0: then start one new", 2, rollingSpec(3, spec.Int(0), spec.Int(1)),
			[]rollout.RevisionCount{{Revision: 1, Total: 2, Ready: 2, Available: 2}},
			map[int]int{1: 2, 2: 1}, false},
		{"percent surge 50% of 4 rounds up to 2", 2, rollingSpec(4, spec.Percent(50), spec.Int(0)),
			[]rollout.RevisionCount{{Revision: 1, Total: 4, Ready: 4, Available: 4}},
			map[int]int{1: 4, 2: 2}, false},
		{"rollback of a never-ready revision: bad instance goes, stable kept", 1, plan,
			[]rollout.RevisionCount{{Revision: 2, Total: 1}, {Revision: 1, Total: 3, Ready: 3, Available: 3}},
			map[int]int{1: 3}, false},
		{"rollback complete once the bad instance is gone", 1, plan,
			[]rollout.RevisionCount{{Revision: 1, Total: 3, Ready: 3, Available: 3}},
			map[int]int{1: 3}, true},
		{"oldest of several old revisions goes first", 3, plan,
			[]rollout.RevisionCount{{Revision: 1, Total: 1, Ready: 1, Available: 1}, {Revision: 2, Total: 2, Ready: 2, Available: 2}, {Revision: 3, Total: 1, Ready: 1, Available: 1}},
			map[int]int{2: 2, 3: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Rolling{}.Plan(rollout.PlanInput{Spec: tt.spec, Target: tt.target, Revisions: tt.revs})
			if !maps.Equal(got.Replicas, tt.want) {
				t.Errorf("replicas = %v, want %v", got.Replicas, tt.want)
			}
			if got.Complete != tt.wantComplete {
				t.Errorf("complete = %v, want %v (message %q)", got.Complete, tt.wantComplete, got.Message)
			}
			if got.Traffic.Weights != nil {
				t.Errorf("traffic weights = %v, want nil (even over ready instances)", got.Traffic.Weights)
			}
		})
	}
}

// TestRolling_Simulate runs the planner against an idealised backend in
// which every instance it asks for becomes available on the next step, and
// checks the plan's invariants at every step: never more than
// replicas+maxSurge instances, never fewer than replicas-maxUnavailable
// available, and completion.
func TestRolling_Simulate(t *testing.T) {
	for _, c := range []struct {
		replicas    int
		surge, unav *spec.IntOrString
	}{
		{3, spec.Int(1), spec.Int(0)},
		{3, spec.Int(0), spec.Int(1)},
		{5, spec.Percent(25), spec.Percent(25)},
		{10, spec.Int(3), spec.Int(2)},
		{1, spec.Int(1), spec.Int(0)},
	} {
		s := rollingSpec(c.replicas, c.surge, c.unav)
		maxTotal := c.replicas + s.MaxSurgeCount()
		minAvail := c.replicas - s.MaxUnavailableCount()
		state := map[int]int{1: c.replicas} // all available
		for step := 0; ; step++ {
			if step > 100 {
				t.Fatalf("%d replicas surge %s unavailable %s: no completion after 100 steps: %v", c.replicas, c.surge, c.unav, state)
			}
			var revs []rollout.RevisionCount
			for n, k := range state {
				revs = append(revs, rollout.RevisionCount{Revision: n, Total: k, Ready: k, Available: k})
			}
			p := Rolling{}.Plan(rollout.PlanInput{Spec: s, Target: 2, Revisions: revs})
			if p.Complete {
				if state[2] != c.replicas || len(state) != 1 {
					t.Fatalf("complete with %v", state)
				}
				break
			}
			// Scale-downs happen first (instant), then scale-ups start unavailable.
			total, avail := 0, 0
			for n, k := range p.Replicas {
				total += k
				avail += min(k, state[n])
			}
			if total > maxTotal {
				t.Fatalf("step %d: %d instances, more than %d: %v", step, total, maxTotal, p.Replicas)
			}
			if avail < minAvail {
				t.Fatalf("step %d: %d available, fewer than %d: %v", step, avail, minAvail, p.Replicas)
			}
			state = map[int]int{}
			for n, k := range p.Replicas {
				if k > 0 {
					state[n] = k
				}
			}
		}
	}
}
