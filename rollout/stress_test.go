package rollout_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
	"github.com/gantry-dev/gantry/store/sqlite"
	"github.com/gantry-dev/gantry/strategy"
)

// TestEngine_ConcurrentCommands runs the engine's loop on a canary with
// pause steps while four clients promote, abort, pause and resume it at
// random, and checks that every command either applied whole or was
// refused as invalid: one event per applied command, a rollout that ends
// Aborted exactly when an abort was applied (Succeeded otherwise), and the
// instances that phase promises. Run it with -race.
func TestEngine_ConcurrentCommands(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/state.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	app, err := spec.Parse("gantry.yaml", []byte(appSpec(canaryPauseBlock)))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutApp(ctx, rollout.AppRecord{Name: "web", Spec: *app}); err != nil {
		t.Fatal(err)
	}
	b := newFakeBackend()
	e, err := rollout.New(rollout.Options{
		Store: st, Backend: b, Router: &fakeRouter{}, Strategies: strategy.All(),
		Interval: 2 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{engine: e, store: st, backend: b}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(runCtx) }()
	defer func() { stop(); <-done }()

	h.waitFinal(t, h.start(t, "v1").ID)
	rounds := 6
	if testing.Short() {
		rounds = 2
	}
	for round := range rounds {
		version := fmt.Sprintf("v%d", round+2)
		r := h.start(t, version)
		applied := h.commandStorm(t, r.ID, 4, 40)
		// Left paused, the rollout waits for a person: be that person.
		for {
			got := h.get(t, r.ID)
			if got.Phase.Final() {
				break
			}
			if got.Phase == rollout.Paused {
				if _, err := e.Resume(ctx, cmd("closer", "")); err != nil && !errors.Is(err, rollout.ErrInvalid) {
					t.Fatalf("resume: %v", err)
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
		got := h.waitFinal(t, r.ID)
		aborted := applied["abort"] > 0
		wantPhase, wantRev := rollout.Succeeded, got.ToRevision
		if aborted {
			wantPhase, wantRev = rollout.Aborted, got.FromRevision
		}
		if got.Phase != wantPhase {
			t.Fatalf("round %d: rollout ended %s (%s: %s); commands applied %v", round, got.Phase, got.Reason, got.Message, applied)
		}
		h.waitInstances(t, map[int]int{wantRev: 3})
		evs, err := st.ListEvents(ctx, rollout.EventFilter{App: "web", Env: "prod", RolloutID: r.ID})
		if err != nil {
			t.Fatal(err)
		}
		byStorm := 0
		for _, ev := range evs {
			if ev.Actor == "storm" {
				byStorm++
			}
		}
		total := 0
		for _, n := range applied {
			total += n
		}
		if byStorm != total {
			t.Errorf("round %d: %d events by the clients, want one per applied command (%v)", round, byStorm, applied)
		}
	}
}

// commandStorm sends n random commands from each of clients goroutines at
// the active rollout id and returns how many of each kind applied.
// Refusals must be ErrInvalid; any other error fails the test.
func (h *harness) commandStorm(t *testing.T, id int64, clients, n int) map[string]int {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	applied := map[string]int{}
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for range n {
				kind := []string{"promote", "promote", "pause", "resume", "resume", "full", "abort"}[rand.N(7)]
				if kind == "abort" && rand.N(4) != 0 {
					kind = "pause" // aborts are rarer, so most rounds get to the end
				}
				req := cmd("storm", kind)
				var r rollout.Rollout
				var err error
				switch kind {
				case "promote":
					r, err = h.engine.Promote(ctx, req, false)
				case "full":
					r, err = h.engine.Promote(ctx, req, true)
				case "pause":
					r, err = h.engine.Pause(ctx, req)
				case "resume":
					r, err = h.engine.Resume(ctx, req)
				case "abort":
					r, err = h.engine.Abort(ctx, req)
				}
				switch {
				case errors.Is(err, rollout.ErrInvalid):
				case err != nil:
					t.Errorf("%s: %v", kind, err)
				case r.ID != id:
					t.Errorf("%s applied to rollout %d, want %d", kind, r.ID, id)
				default:
					mu.Lock()
					applied[kind]++
					mu.Unlock()
				}
				time.Sleep(time.Duration(rand.N(3)) * time.Millisecond)
			}
		})
	}
	wg.Wait()
	return applied
}

// waitFinal waits until rollout id has ended, while the engine runs.
func (h *harness) waitFinal(t *testing.T, id int64) rollout.Rollout {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if r := h.get(t, id); r.Phase.Final() {
			return r
		}
		time.Sleep(5 * time.Millisecond)
	}
	r := h.get(t, id)
	t.Fatalf("rollout %d not ended within 60s: %s step %d: %s", id, r.Phase, r.Step, r.Message)
	return r
}

// waitInstances waits until the instances per revision are want, while the engine runs.
func (h *harness) waitInstances(t *testing.T, want map[int]int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if maps.Equal(h.counts(), want) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("instances = %v, want %v", h.counts(), want)
}
