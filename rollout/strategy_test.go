package rollout_test

import (
	"context"
	"maps"
	"testing"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
	"github.com/gantry-dev/gantry/strategy"
)

// halfway is a strategy only this test knows, so the engine can know it by
// its Description alone: two steps. "half" runs half the new revision's
// instances (rounded up) beside all the stable ones, splits traffic 50/50,
// and pauses once they are available; "all" gives the new revision every
// instance and all traffic.
type halfway struct{}

const halfwayType spec.StrategyType = "Halfway"

func (halfway) Describe(spec.AppSpec) rollout.Description {
	return rollout.Description{Steps: []string{"half", "all"}}
}

func (halfway) Plan(in rollout.PlanInput) rollout.Plan {
	want := in.Spec.ReplicaCount()
	target := in.Count(in.Target)
	if in.Step == 0 {
		half := (want + 1) / 2
		plan := rollout.Plan{
			Replicas: map[int]int{in.Target: half, in.Stable: want},
			Traffic:  rollout.Traffic{Weights: map[int]int{in.Target: 50, in.Stable: 50}},
			Message:  "half",
		}
		plan.Pause = target.Available >= half
		return plan
	}
	others := 0
	for _, c := range in.Revisions {
		if c.Revision != in.Target {
			others += c.Total
		}
	}
	return rollout.Plan{
		Replicas: map[int]int{in.Target: want},
		Traffic:  rollout.Traffic{Weights: map[int]int{in.Target: 100}},
		Step:     1,
		Complete: others == 0 && target.Available >= want,
		Message:  "all",
	}
}

// newHalfwayHarness has the halfway strategy beside gantry's own, and web
// deployed at v1; later deploys use the halfway strategy.
func newHalfwayHarness(t *testing.T) *cmdHarness {
	t.Helper()
	strategies := strategy.All()
	strategies[halfwayType] = halfway{}
	h := newHarnessWithStrategies(t, appSpec(rollingBlock), strategies)
	h.deploy(t, "v1")
	ctx := context.Background()
	app, err := h.store.GetApp(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	app.Spec.Spec.Strategy = spec.Strategy{Type: halfwayType}
	if err := h.store.PutApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestEngine_StrategyKnownByItsDescription(t *testing.T) {
	t.Run("resume at its pause goes to its last step", func(t *testing.T) {
		h := newHalfwayHarness(t)
		ctx := context.Background()
		r := h.start(t, "v2")
		if r.Strategy != halfwayType {
			t.Fatalf("strategy = %s, want %s", r.Strategy, halfwayType)
		}
		r = h.reconcileUntil(t, r.ID, "paused halfway", func(r rollout.Rollout) bool { return r.Phase == rollout.Paused })
		if got, want := h.counts(), map[int]int{1: 3, 2: 2}; !maps.Equal(got, want) {
			t.Errorf("instances halfway = %v, want %v", got, want)
		}
		if got, want := h.weights(), map[int]int{1: 50, 2: 50}; !maps.Equal(got, want) {
			t.Errorf("weights halfway = %v, want %v", got, want)
		}
		r, err := h.engine.Resume(ctx, cmd("alice", ""))
		if err != nil {
			t.Fatalf("resume: %v", err)
		}
		if r.Step != 1 || r.Phase != rollout.Progressing {
			t.Fatalf("after resume: %s step %d, want Progressing step 1", r.Phase, r.Step)
		}
		if r = h.until(t, r.ID); r.Phase != rollout.Succeeded {
			t.Fatalf("rollout ended %s (%s: %s), want Succeeded", r.Phase, r.Reason, r.Message)
		}
		if got, want := h.counts(), map[int]int{2: 3}; !maps.Equal(got, want) {
			t.Errorf("instances at the end = %v, want %v", got, want)
		}
	})
	t.Run("full promotion stops at its last step", func(t *testing.T) {
		h := newHalfwayHarness(t)
		r := h.start(t, "v2")
		h.reconcileUntil(t, r.ID, "progressing", func(r rollout.Rollout) bool { return r.Phase == rollout.Progressing })
		r, err := h.engine.Promote(context.Background(), cmd("alice", ""), true)
		if err != nil {
			t.Fatalf("promote: %v", err)
		}
		if r.Step != 1 {
			t.Fatalf("step after a full promotion = %d, want 1 (the last of two)", r.Step)
		}
		if r = h.until(t, r.ID); r.Phase != rollout.Succeeded {
			t.Fatalf("rollout ended %s (%s: %s), want Succeeded", r.Phase, r.Reason, r.Message)
		}
	})
	t.Run("a strategy this gantry lacks rolls back", func(t *testing.T) {
		h := newHalfwayHarness(t)
		ctx := context.Background()
		app, err := h.store.GetApp(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		app.Spec.Spec.Strategy = spec.Strategy{Type: "Sideways"}
		if err := h.store.PutApp(ctx, app); err != nil {
			t.Fatal(err)
		}
		r := h.start(t, "v2")
		if r = h.until(t, r.ID); r.Phase != rollout.RolledBack || r.Reason != "UnknownStrategy" {
			t.Fatalf("rollout ended %s (%s: %s), want RolledBack UnknownStrategy", r.Phase, r.Reason, r.Message)
		}
	})
}
