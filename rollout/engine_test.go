package rollout_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
	"github.com/gantry-dev/gantry/store/sqlite"
	"github.com/gantry-dev/gantry/strategy"
)

// fakeBackend is an in-memory backend: an instance is ready one Instances
// call after it is started, unless its version contains "never-ready";
// one whose version contains "crash" keeps restarting.
type fakeBackend struct {
	mu    sync.Mutex
	next  int
	insts map[string][]rollout.Instance // by app/env
	// maxTotal records the most instances that ever existed at once.
	maxTotal int
}

func newFakeBackend() *fakeBackend { return &fakeBackend{insts: map[string][]rollout.Instance{}} }

func (b *fakeBackend) Scale(_ context.Context, rev rollout.Revision, n int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := rev.App + "/" + rev.Env
	var mine, others []rollout.Instance
	for _, in := range b.insts[k] {
		if in.Revision == rev.Number {
			mine = append(mine, in)
		} else {
			others = append(others, in)
		}
	}
	for len(mine) < n {
		b.next++
		mine = append(mine, rollout.Instance{
			ID: fmt.Sprintf("i-%d", b.next), App: rev.App, Env: rev.Env, Revision: rev.Number, Version: rev.Version,
			State: rollout.Starting, Addr: fmt.Sprintf("127.0.0.1:%d", 10000+b.next),
		})
	}
	if len(mine) > n {
		mine = mine[:n]
	}
	b.insts[k] = append(others, mine...)
	b.maxTotal = max(b.maxTotal, len(b.insts[k]))
	return nil
}

func (b *fakeBackend) Instances(app, env string) []rollout.Instance {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := app + "/" + env
	out := make([]rollout.Instance, len(b.insts[k]))
	copy(out, b.insts[k])
	// Advance every instance one step for the next call.
	for i := range b.insts[k] {
		in := &b.insts[k][i]
		switch {
		case strings.Contains(in.Version, "crash"):
			in.Restarts++
			in.State = rollout.BackingOff
			in.LastExit = "exit status 1"
		case strings.Contains(in.Version, "never-ready"):
			in.State = rollout.Running
		default:
			in.State, in.Ready = rollout.Running, true
			if in.ReadySince.IsZero() {
				in.ReadySince = time.Now()
			}
		}
	}
	return out
}

// fakeRouter records the last traffic split per environment.
type fakeRouter struct {
	mu   sync.Mutex
	last map[string]rollout.Traffic
}

func (r *fakeRouter) SetTraffic(app, env string, t rollout.Traffic) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		r.last = map[string]rollout.Traffic{}
	}
	r.last[app+"/"+env] = t
	return nil
}

const testSpec = `apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
  replicas: 3
  workload: {command: /bin/true}
  progressDeadlineSeconds: 2
environments:
  - name: prod
`

type harness struct {
	engine  *rollout.Engine
	store   rollout.Store
	backend *fakeBackend
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/state.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	app, err := spec.Parse("gantry.yaml", []byte(testSpec))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutApp(ctx, rollout.AppRecord{Name: "web", Spec: *app}); err != nil {
		t.Fatal(err)
	}
	b := newFakeBackend()
	e, err := rollout.New(rollout.Options{
		Store: st, Backend: b, Router: &fakeRouter{},
		Strategies: map[spec.StrategyType]rollout.Strategy{spec.RollingUpdate: strategy.Rolling{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{engine: e, store: st, backend: b}
}

// deploy deploys version and reconciles until the rollout ends.
func (h *harness) deploy(t *testing.T, version string) rollout.Rollout {
	t.Helper()
	ctx := context.Background()
	r, err := h.engine.Deploy(ctx, rollout.DeployRequest{App: "web", Env: "prod", Version: version, Actor: "test"})
	if err != nil {
		t.Fatalf("deploy %s: %v", version, err)
	}
	return h.until(t, r.ID)
}

func (h *harness) until(t *testing.T, id int64) rollout.Rollout {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if err := h.engine.Reconcile(ctx); err != nil {
			t.Fatalf("reconcile: %v", err)
		}
		r, err := h.store.GetRollout(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Phase.Final() {
			return r
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("rollout %d did not end within 30s", id)
	return rollout.Rollout{}
}

func TestEngine_RollingUpdate(t *testing.T) {
	h := newHarness(t)
	if r := h.deploy(t, "v1"); r.Phase != rollout.Succeeded {
		t.Fatalf("first deploy: %s %s: %s", r.Phase, r.Reason, r.Message)
	}
	r := h.deploy(t, "v2")
	if r.Phase != rollout.Succeeded || r.FromRevision != 1 || r.ToRevision != 2 {
		t.Fatalf("second deploy = %+v, want Succeeded from 1 to 2", r)
	}
	if h.backend.maxTotal > 4 {
		t.Errorf("up to %d instances at once, want at most replicas+maxSurge = 4", h.backend.maxTotal)
	}
	h.engine.Reconcile(context.Background())
	for _, in := range h.backend.Instances("web", "prod") {
		if in.Revision != 2 {
			t.Errorf("instance %s of revision %d left after the rollout", in.ID, in.Revision)
		}
	}
}

func TestEngine_RollsBack(t *testing.T) {
	for _, tc := range []struct {
		version string
		reason  rollout.Reason
	}{
		{"v2-never-ready", "ProgressDeadlineExceeded"},
		{"v2-crash", "CrashLoop"},
	} {
		t.Run(string(tc.reason), func(t *testing.T) {
			h := newHarness(t)
			h.deploy(t, "v1")
			r := h.deploy(t, tc.version)
			if r.Phase != rollout.RolledBack || r.Reason != tc.reason {
				t.Fatalf("rollout = %s %s (%s), want RolledBack %s", r.Phase, r.Reason, r.Message, tc.reason)
			}
			h.engine.Reconcile(context.Background())
			ready := 0
			for _, in := range h.backend.Instances("web", "prod") {
				if in.Revision != 1 {
					t.Errorf("instance %s of revision %d left after the rollback", in.ID, in.Revision)
				}
				if in.Ready {
					ready++
				}
			}
			if ready != 3 {
				t.Errorf("%d ready instances of revision 1 after rollback, want 3", ready)
			}
			// Undo needs a revision before the stable one: there is none
			// beyond 1, so undo to the rolled-back revision is refused as no-op.
			if _, err := h.engine.Undo(context.Background(), "web", "prod", 1, "test"); err == nil {
				t.Errorf("undo to the revision that already serves: want an error")
			}
		})
	}
}

func TestEngine_SupersedeAndUndo(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.deploy(t, "v1")
	first, err := h.engine.Deploy(ctx, rollout.DeployRequest{App: "web", Env: "prod", Version: "v2-never-ready"})
	if err != nil {
		t.Fatal(err)
	}
	h.engine.Reconcile(ctx)
	r := h.deploy(t, "v3")
	if r.Phase != rollout.Succeeded || r.FromRevision != 1 {
		t.Fatalf("v3 = %s from %d, want Succeeded from 1", r.Phase, r.FromRevision)
	}
	got, _ := h.store.GetRollout(ctx, first.ID)
	if got.Phase != rollout.Superseded {
		t.Errorf("earlier rollout = %s, want Superseded", got.Phase)
	}
	u, err := h.engine.Undo(ctx, "web", "prod", 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	if u.ToRevision != 1 {
		t.Fatalf("undo goes to revision %d, want 1 (stable before v3)", u.ToRevision)
	}
	if r := h.until(t, u.ID); r.Phase != rollout.Succeeded {
		t.Fatalf("undo = %s", r.Phase)
	}
	for _, bad := range []rollout.DeployRequest{
		{App: "nope", Env: "prod", Version: "v1"},
		{App: "web", Env: "staging", Version: "v1"},
		{App: "web", Env: "prod", Version: " "},
	} {
		if _, err := h.engine.Deploy(ctx, bad); err == nil {
			t.Errorf("deploy %+v: want an error", bad)
		}
	}
}

// TestEngine_RepairsLostTransitionEvent stores a transition without its
// event, as a server killed between the two writes leaves it, and checks
// the next engine records it.
func TestEngine_RepairsLostTransitionEvent(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	r := h.deploy(t, "v1")
	r.Phase, r.Reason, r.Message = rollout.Failed, "Test", "stored without its event"
	if _, err := h.store.UpdateRollout(ctx, r); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.engine.Run(runCtx) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		evs, err := h.store.ListEvents(ctx, rollout.EventFilter{RolloutID: r.ID})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range evs {
			if ev.Reason == "TransitionRecovered" && strings.Contains(ev.Message, "is Failed") {
				n++
			}
		}
		if n == 1 {
			break
		}
		if n > 1 || time.Now().After(deadline) {
			t.Fatalf("%d TransitionRecovered events, want 1: %+v", n, evs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	// A second engine finds the trail whole and adds nothing.
	runCtx, cancel = context.WithCancel(ctx)
	go func() { done <- h.engine.Run(runCtx) }()
	time.Sleep(200 * time.Millisecond)
	cancel()
	<-done
	evs, _ := h.store.ListEvents(ctx, rollout.EventFilter{RolloutID: r.ID})
	n := 0
	for _, ev := range evs {
		if ev.Reason == "TransitionRecovered" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d TransitionRecovered events after a second start, want still 1", n)
	}
}
