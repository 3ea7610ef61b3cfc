package rollout_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
	"github.com/gantry-dev/gantry/store/sqlite"
	"github.com/gantry-dev/gantry/strategy"
)

// appSpec is a gantry.yaml for app web in prod with the given strategy
// block (indented under spec:) and a progress deadline long enough that a
// slow machine never rolls back on it.
func appSpec(strategyBlock string) string {
	return `apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
  replicas: 3
  workload: {command: /bin/true}
  progressDeadlineSeconds: 600
` + strategyBlock + `environments:
  - name: prod
`
}

const (
	rollingBlock = ""
	// canaryPauseBlock: 20%, pause until promoted, 50%, pause until promoted, 100%.
	canaryPauseBlock = `  strategy:
    type: Canary
    canary:
      steps:
        - setWeight: 20
        - pause: {}
        - setWeight: 50
        - pause: {}
        - setWeight: 100
`
	// canaryEvidenceBlock: 20% then 40%, which holds at 20% for evidence.
	canaryEvidenceBlock = `  strategy:
    type: Canary
    canary:
      steps:
        - setWeight: 20
        - setWeight: 40
        - pause: {duration: 1s}
`
)

// cmdHarness is a harness with every strategy and a router to look at.
type cmdHarness struct {
	*harness
	router *fakeRouter
}

// newHarnessWith is newHarness with yaml as the applied spec and the
// rolling, canary and blue-green strategies registered.
func newHarnessWith(t *testing.T, yaml string) *cmdHarness {
	t.Helper()
	return newHarnessWithStrategies(t, yaml, strategy.All())
}

// newHarnessWithStrategies is newHarnessWith with the given strategies.
func newHarnessWithStrategies(t *testing.T, yaml string, strategies map[spec.StrategyType]rollout.Strategy) *cmdHarness {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/state.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	app, err := spec.Parse("gantry.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutApp(ctx, rollout.AppRecord{Name: "web", Spec: *app}); err != nil {
		t.Fatal(err)
	}
	b, router := newFakeBackend(), &fakeRouter{}
	e, err := rollout.New(rollout.Options{
		Store: st, Backend: b, Router: router,
		Strategies: strategies,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &cmdHarness{harness: &harness{engine: e, store: st, backend: b}, router: router}
}

// start deploys version and returns the new rollout without reconciling.
func (h *harness) start(t *testing.T, version string) rollout.Rollout {
	t.Helper()
	r, err := h.engine.Deploy(context.Background(), rollout.DeployRequest{App: "web", Env: "prod", Version: version, Actor: "test"})
	if err != nil {
		t.Fatalf("deploy %s: %v", version, err)
	}
	return r
}

// reconcileUntil reconciles until ok holds for rollout id, and returns it.
func (h *harness) reconcileUntil(t *testing.T, id int64, what string, ok func(rollout.Rollout) bool) rollout.Rollout {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	var r rollout.Rollout
	for time.Now().Before(deadline) {
		if err := h.engine.Reconcile(ctx); err != nil {
			t.Fatalf("reconcile: %v", err)
		}
		var err error
		if r, err = h.store.GetRollout(ctx, id); err != nil {
			t.Fatal(err)
		}
		if ok(r) {
			return r
		}
		if r.Phase.Final() {
			t.Fatalf("rollout %d ended %s %s (%s) before %s", id, r.Phase, r.Reason, r.Message, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("rollout %d: not %s within 30s: %s step %d: %s", id, what, r.Phase, r.Step, r.Message)
	return r
}

// reconcile runs n reconciles.
func (h *harness) reconcile(t *testing.T, n int) {
	t.Helper()
	for range n {
		if err := h.engine.Reconcile(context.Background()); err != nil {
			t.Fatalf("reconcile: %v", err)
		}
	}
}

// counts returns how many instances each revision has.
func (h *harness) counts() map[int]int {
	out := map[int]int{}
	for _, in := range h.backend.Instances("web", "prod") {
		out[in.Revision]++
	}
	return out
}

func (h *cmdHarness) weights() map[int]int {
	h.router.mu.Lock()
	defer h.router.mu.Unlock()
	return maps.Clone(h.router.last["web/prod"].Weights)
}

func (h *harness) get(t *testing.T, id int64) rollout.Rollout {
	t.Helper()
	r, err := h.store.GetRollout(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wantEvent checks that rollout id has an event with reason, by actor,
// whose message contains text.
func (h *harness) wantEvent(t *testing.T, id int64, reason rollout.Reason, actor, text string) {
	t.Helper()
	evs, err := h.store.ListEvents(context.Background(), rollout.EventFilter{App: "web", Env: "prod", RolloutID: id})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, ev := range evs {
		if ev.Reason == reason && ev.Actor == actor && strings.Contains(ev.Message, text) {
			return
		}
		seen = append(seen, string(ev.Reason)+" by "+ev.Actor+": "+ev.Message)
	}
	t.Errorf("rollout %d: no %s event by %q mentioning %q; events:\n%s", id, reason, actor, text, strings.Join(seen, "\n"))
}

func cmd(actor, why string) rollout.CommandRequest {
	return rollout.CommandRequest{App: "web", Env: "prod", Actor: actor, Why: why}
}

func TestEngine_PauseResume(t *testing.T) {
	h := newHarnessWith(t, appSpec(rollingBlock))
	ctx := context.Background()
	h.deploy(t, "v1")
	r := h.start(t, "v2")
	r = h.reconcileUntil(t, r.ID, "scaling revision 2", func(rollout.Rollout) bool { return h.counts()[2] > 0 })

	p, err := h.engine.Pause(ctx, cmd("alice", "checking the dashboards"))
	if err != nil {
		t.Fatalf("pause: %v", err)
	}
	if p.Phase != rollout.Paused {
		t.Fatalf("pause returned phase %s, want Paused", p.Phase)
	}
	h.wantEvent(t, r.ID, "Paused", "alice", "checking the dashboards")

	held := h.counts()
	for i := range 20 {
		h.reconcile(t, 1)
		if got := h.counts(); !maps.Equal(got, held) {
			t.Fatalf("reconcile %d while paused: instances per revision %v, want them held at %v", i, got, held)
		}
	}
	if got := h.get(t, r.ID); got.Phase != rollout.Paused {
		t.Fatalf("after reconciles while paused: phase %s, want Paused", got.Phase)
	}
	if _, err := h.engine.Pause(ctx, cmd("alice", "")); !errors.Is(err, rollout.ErrInvalid) {
		t.Errorf("pause of a paused rollout: err = %v, want ErrInvalid", err)
	}

	if _, err := h.engine.Resume(ctx, cmd("bob", "dashboards fine")); err != nil {
		t.Fatalf("resume: %v", err)
	}
	h.wantEvent(t, r.ID, "Resumed", "bob", "dashboards fine")
	if got := h.until(t, r.ID); got.Phase != rollout.Succeeded {
		t.Fatalf("after resume: %s %s (%s), want Succeeded", got.Phase, got.Reason, got.Message)
	}
	if _, err := h.engine.Pause(ctx, cmd("alice", "")); !errors.Is(err, rollout.ErrInvalid) {
		t.Errorf("pause of a finished rollout: err = %v, want ErrInvalid", err)
	}
	if _, err := h.engine.Resume(ctx, cmd("alice", "")); !errors.Is(err, rollout.ErrInvalid) {
		t.Errorf("resume of a finished rollout: err = %v, want ErrInvalid", err)
	}
}

func TestEngine_PromoteAtPauseStep(t *testing.T) {
	h := newHarnessWith(t, appSpec(canaryPauseBlock))
	ctx := context.Background()
	h.deploy(t, "v1")
	r := h.start(t, "v2")
	if r.Strategy != spec.Canary {
		t.Fatalf("strategy = %s, want Canary", r.Strategy)
	}
	r = h.reconcileUntil(t, r.ID, "paused at step 1", func(r rollout.Rollout) bool { return r.Phase == rollout.Paused })
	if r.Step != 1 || r.Reason != "PauseStep" {
		t.Fatalf("paused at step %d (%s), want step 1 (PauseStep)", r.Step, r.Reason)
	}
	if got, want := h.weights(), map[int]int{1: 80, 2: 20}; !maps.Equal(got, want) {
		t.Errorf("weights at the pause = %v, want %v", got, want)
	}
	// It holds: no duration, and no metrics to promote on.
	h.reconcile(t, 10)
	if got := h.get(t, r.ID); got.Phase != rollout.Paused || got.Step != 1 {
		t.Fatalf("after reconciles: %s step %d, want Paused at step 1", got.Phase, got.Step)
	}

	p, err := h.engine.Promote(ctx, cmd("alice", "20% looks fine"), false)
	if err != nil {
		t.Fatalf("promote: %v", err)
	}
	if p.Phase != rollout.Progressing || p.Step != 2 {
		t.Fatalf("promote returned %s step %d, want Progressing step 2", p.Phase, p.Step)
	}
	h.wantEvent(t, r.ID, "Promoted", "alice", "20% looks fine")

	r = h.reconcileUntil(t, r.ID, "paused at step 3", func(r rollout.Rollout) bool { return r.Phase == rollout.Paused && r.Step == 3 })
	if got, want := h.weights(), map[int]int{1: 50, 2: 50}; !maps.Equal(got, want) {
		t.Errorf("weights at the second pause = %v, want %v", got, want)
	}
	if got := h.counts(); got[1] != 3 || got[2] != 2 {
		t.Errorf("instances at the second pause = %v, want 3 of revision 1 and 2 of revision 2", got)
	}
	// Resume at a pause step promotes.
	if _, err := h.engine.Resume(ctx, cmd("bob", "50% fine too")); err != nil {
		t.Fatalf("resume: %v", err)
	}
	h.wantEvent(t, r.ID, "Promoted", "bob", "50% fine too")
	if got := h.until(t, r.ID); got.Phase != rollout.Succeeded {
		t.Fatalf("after the last promotion: %s %s (%s), want Succeeded", got.Phase, got.Reason, got.Message)
	}
	h.reconcile(t, 1)
	if got := h.counts(); !maps.Equal(got, map[int]int{2: 3}) {
		t.Errorf("instances after the rollout = %v, want 3 of revision 2 only", got)
	}
}

func TestEngine_PromoteFull(t *testing.T) {
	h := newHarnessWith(t, appSpec(canaryEvidenceBlock))
	ctx := context.Background()
	h.deploy(t, "v1")
	r := h.start(t, "v2")
	r = h.reconcileUntil(t, r.ID, "holding for evidence", func(r rollout.Rollout) bool {
		return strings.Contains(r.Message, "holding for evidence")
	})
	h.reconcile(t, 10)
	if got := h.get(t, r.ID); got.Step != 0 || got.Phase != rollout.Progressing {
		t.Fatalf("without evidence: %s step %d, want Progressing, held at step 0", got.Phase, got.Step)
	}
	if got, want := h.weights(), map[int]int{1: 80, 2: 20}; !maps.Equal(got, want) {
		t.Errorf("weights while holding = %v, want %v", got, want)
	}

	p, err := h.engine.Promote(ctx, cmd("alice", "ship it"), true)
	if err != nil {
		t.Fatalf("promote --full: %v", err)
	}
	if p.Step != 3 {
		t.Errorf("promote --full to step %d, want 3 (past the last step)", p.Step)
	}
	h.wantEvent(t, r.ID, "Promoted", "alice", "ship it")
	if got := h.until(t, r.ID); got.Phase != rollout.Succeeded {
		t.Fatalf("after promote --full: %s %s (%s), want Succeeded", got.Phase, got.Reason, got.Message)
	}
	h.reconcile(t, 1)
	if got := h.counts(); !maps.Equal(got, map[int]int{2: 3}) {
		t.Errorf("instances after the rollout = %v, want 3 of revision 2 only", got)
	}
}

func TestEngine_Abort(t *testing.T) {
	h := newHarnessWith(t, appSpec(canaryEvidenceBlock))
	ctx := context.Background()
	h.deploy(t, "v1")
	r := h.start(t, "v2")
	r = h.reconcileUntil(t, r.ID, "holding for evidence", func(r rollout.Rollout) bool {
		return strings.Contains(r.Message, "holding for evidence")
	})

	a, err := h.engine.Abort(ctx, cmd("alice", "wrong build"))
	if err != nil {
		t.Fatalf("abort: %v", err)
	}
	if a.Phase != rollout.RollingBack || a.Reason != rollout.ReasonAborted {
		t.Errorf("abort returned %s %s, want RollingBack %s", a.Phase, a.Reason, rollout.ReasonAborted)
	}
	h.wantEvent(t, r.ID, rollout.ReasonAborted, "alice", "wrong build")
	if _, err := h.engine.Abort(ctx, cmd("alice", "")); !errors.Is(err, rollout.ErrInvalid) {
		t.Errorf("abort of a rollout rolling back: err = %v, want ErrInvalid", err)
	}
	if _, err := h.engine.Promote(ctx, cmd("alice", ""), false); !errors.Is(err, rollout.ErrInvalid) {
		t.Errorf("promote of a rollout rolling back: err = %v, want ErrInvalid", err)
	}

	got := h.until(t, r.ID)
	if got.Phase != rollout.Aborted {
		t.Fatalf("after abort: %s %s (%s), want Aborted", got.Phase, got.Reason, got.Message)
	}
	h.reconcile(t, 1)
	ready := 0
	for _, in := range h.backend.Instances("web", "prod") {
		if in.Revision != 1 {
			t.Errorf("instance %s of revision %d left after the abort", in.ID, in.Revision)
		}
		if in.Ready {
			ready++
		}
	}
	if ready != 3 {
		t.Errorf("%d ready instances of revision 1 after the abort, want 3", ready)
	}
	if w := h.weights(); w[2] != 0 {
		t.Errorf("weights after the abort = %v, want none for revision 2", w)
	}
}

func TestEngine_Retry(t *testing.T) {
	h := newHarness(t) // progress deadline 2s: a never-ready revision rolls back
	ctx := context.Background()
	h.deploy(t, "v1")
	bad := h.deploy(t, "v2-never-ready")
	if bad.Phase != rollout.RolledBack {
		t.Fatalf("v2-never-ready: %s, want RolledBack", bad.Phase)
	}

	r, err := h.engine.Retry(ctx, cmd("alice", "the database is back"))
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if r.ID == bad.ID || r.ToRevision != bad.ToRevision || r.FromRevision != 1 || r.Phase != rollout.Pending {
		t.Errorf("retry = rollout %d %s from %d to %d, want a new Pending rollout from 1 to %d",
			r.ID, r.Phase, r.FromRevision, r.ToRevision, bad.ToRevision)
	}
	h.wantEvent(t, r.ID, "RolloutRetried", "alice", "the database is back")
	revs, err := h.store.ListRevisions(ctx, "web", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != 2 {
		t.Errorf("%d revisions after the retry, want 2 (a retry makes no new revision)", len(revs))
	}
	// The same revision fails the same way.
	if got := h.until(t, r.ID); got.Phase != rollout.RolledBack {
		t.Errorf("retried rollout: %s, want RolledBack", got.Phase)
	}

	h.deploy(t, "v3")
	if _, err := h.engine.Retry(ctx, cmd("alice", "")); !errors.Is(err, rollout.ErrInvalid) {
		t.Errorf("retry after a success: err = %v, want ErrInvalid", err)
	}
}

func TestEngine_CommandsWithoutActiveRollout(t *testing.T) {
	ctx := context.Background()
	commands := map[string]func(*rollout.Engine, rollout.CommandRequest) error{
		"promote": func(e *rollout.Engine, c rollout.CommandRequest) error {
			_, err := e.Promote(ctx, c, false)
			return err
		},
		"promote --full": func(e *rollout.Engine, c rollout.CommandRequest) error {
			_, err := e.Promote(ctx, c, true)
			return err
		},
		"abort": func(e *rollout.Engine, c rollout.CommandRequest) error {
			_, err := e.Abort(ctx, c)
			return err
		},
		"pause": func(e *rollout.Engine, c rollout.CommandRequest) error {
			_, err := e.Pause(ctx, c)
			return err
		},
		"resume": func(e *rollout.Engine, c rollout.CommandRequest) error {
			_, err := e.Resume(ctx, c)
			return err
		},
		"retry": func(e *rollout.Engine, c rollout.CommandRequest) error {
			_, err := e.Retry(ctx, c)
			return err
		},
	}
	h := newHarnessWith(t, appSpec(rollingBlock))
	for name, run := range commands {
		t.Run(name+" before any deploy", func(t *testing.T) {
			if err := run(h.engine, cmd("alice", "")); !errors.Is(err, rollout.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
	h.deploy(t, "v1")
	for name, run := range commands {
		t.Run(name+" after the rollout succeeded", func(t *testing.T) {
			if err := run(h.engine, cmd("alice", "")); !errors.Is(err, rollout.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
	t.Run("unknown environment", func(t *testing.T) {
		for name, run := range commands {
			c := cmd("alice", "")
			c.Env = "staging"
			if err := run(h.engine, c); !errors.Is(err, rollout.ErrInvalid) {
				t.Errorf("%s: err = %v, want ErrInvalid", name, err)
			}
		}
	})
}
