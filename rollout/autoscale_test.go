package rollout_test

import (
	"context"
	"sync"
	"testing"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
	"github.com/gantry-dev/gantry/store/sqlite"
	"github.com/gantry-dev/gantry/strategy"
)

// autoscalingBackend is fakeBackend under a model autoscaler: once
// handed a revision, it holds that revision's count at scaledTo.
type autoscalingBackend struct {
	*fakeBackend
	mu       sync.Mutex
	scaledTo int // the autoscaler's count; 0: what the revision had
	target   int // the revision it scales; 0: none
	held     int // the count a rollout took back; 0: none
}

var _ rollout.Autoscaler = (*autoscalingBackend)(nil)

func (b *autoscalingBackend) Autoscale(_ context.Context, rev rollout.Revision) (int, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.target, b.held = rev.Number, 0
	if b.scaledTo == 0 {
		b.scaledTo = rev.Spec.ReplicaCount()
	}
	return b.scaledTo, true, nil
}

func (b *autoscalingBackend) HoldScale(_ context.Context, app, env string) (int, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held == 0 && b.target != 0 {
		b.held, b.target = b.scaledTo, 0
	}
	return b.held, b.held > 0, nil
}

func countRevision(b *fakeBackend, rev int) int {
	n := 0
	for _, in := range b.Instances("web", "prod") {
		if in.Revision == rev {
			n++
		}
	}
	return n
}

// TestEngine_Autoscaler: between rollouts the engine keeps the count the
// autoscaler set instead of the spec's; a rollout runs at the count it
// took back and hands the autoscaler the new revision at the end.
func TestEngine_Autoscaler(t *testing.T) {
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
	b := &autoscalingBackend{fakeBackend: newFakeBackend()}
	e, err := rollout.New(rollout.Options{
		Store: st, Backend: b, Router: &fakeRouter{},
		Strategies: map[spec.StrategyType]rollout.Strategy{spec.RollingUpdate: strategy.Rolling{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{engine: e, store: st, backend: b.fakeBackend}
	if r := h.deploy(t, "v1"); r.Phase != rollout.Succeeded {
		t.Fatalf("first deploy: %s %s: %s", r.Phase, r.Reason, r.Message)
	}
	if err := e.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if b.target != 1 || countRevision(b.fakeBackend, 1) != 3 {
		t.Fatalf("after the first rollout the autoscaler scales revision %d, which has %d instances; want revision 1 at the spec's 3", b.target, countRevision(b.fakeBackend, 1))
	}
	b.mu.Lock()
	b.scaledTo = 7 // load rose
	b.mu.Unlock()
	if err := e.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if got := countRevision(b.fakeBackend, 1); got != 7 {
		t.Fatalf("revision 1 has %d instances between rollouts; want the autoscaler's 7, not the spec's 3", got)
	}
	b.fakeBackend.maxTotal = 0
	r := h.deploy(t, "v2")
	if r.Phase != rollout.Succeeded {
		t.Fatalf("second deploy: %s %s: %s", r.Phase, r.Reason, r.Message)
	}
	if err := e.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if got := countRevision(b.fakeBackend, 2); got != 7 || b.target != 2 {
		t.Errorf("after the rollout revision 2 has %d instances under the autoscaler of revision %d; want 7 under revision 2's", got, b.target)
	}
	// maxSurge 25% of 7 rounds up to 2.
	if b.fakeBackend.maxTotal > 9 || b.fakeBackend.maxTotal < 7 {
		t.Errorf("up to %d instances at once during the rollout; want 7 to 9 (7 and a surge of 2)", b.fakeBackend.maxTotal)
	}
}
