package rollout_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
	"github.com/gantry-dev/gantry/store/sqlite"
	"github.com/gantry-dev/gantry/strategy"
)

// counters is a data plane's per-revision counters, cumulative since
// origin, which outlive the engine (as gantry proxy outlives the server).
type counters struct {
	mu   sync.Mutex
	revs map[int]rollout.RevisionMetrics
}

func (c *counters) RevisionMetrics(app, env string) map[int]rollout.RevisionMetrics {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[int]rollout.RevisionMetrics, len(c.revs))
	for k, v := range c.revs {
		out[k] = v
	}
	return out
}

// serve adds requests to revision rev.
func (c *counters) serve(rev int, requests uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.revs[rev]
	m.Requests += requests
	m.Origin = "boot-1"
	c.revs[rev] = m
}

// TestEngine_analysisCountsTrafficServedWhileDown: the engine stops
// (kill -9 of gantry server) while a canary is paused and the data plane
// keeps serving; the next engine's first reading counts what was served
// meanwhile, from the counters stored with the evidence, instead of only
// setting a new starting point.
func TestEngine_analysisCountsTrafficServedWhileDown(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/state.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	app, err := spec.Parse("gantry.yaml", []byte(appSpec(canaryPauseBlock+`  analysis: {baseline: primary, warmUpRequests: 0, warmUpSeconds: 0}
`)))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutApp(ctx, rollout.AppRecord{Name: "web", Spec: *app}); err != nil {
		t.Fatal(err)
	}
	b, router, dp := newFakeBackend(), &fakeRouter{}, &counters{revs: map[int]rollout.RevisionMetrics{}}
	start := func() *harness {
		e, err := rollout.New(rollout.Options{Store: st, Backend: b, Router: router, Metrics: dp, Strategies: strategy.All()})
		if err != nil {
			t.Fatal(err)
		}
		return &harness{engine: e, store: st, backend: b}
	}
	canaryRequests := func(id int64) uint64 {
		t.Helper()
		raw, err := st.GetAnalysisState(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var s struct{ Total struct{ CanaryReq uint64 } }
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		return s.Total.CanaryReq
	}

	h := start()
	h.deploy(t, "v1")
	r := h.start(t, "v2")
	h.reconcileUntil(t, r.ID, "paused at 20%", func(r rollout.Rollout) bool { return r.Phase == rollout.Paused })
	dp.serve(1, 800)
	dp.serve(2, 200)
	time.Sleep(1100 * time.Millisecond) // the analysis reads at most once a second
	h.reconcileUntil(t, r.ID, "the canary's requests compared", func(rollout.Rollout) bool { return canaryRequests(r.ID) >= 200 })
	before := canaryRequests(r.ID)

	// The engine is gone; the data plane serves on.
	dp.serve(1, 1200)
	dp.serve(2, 300)
	h = start()
	h.engine.Reconcile(ctx)
	if n := canaryRequests(r.ID); n != before+300 {
		t.Errorf("after the restart: %d canary requests compared, want %d (%d before and the 300 served while the engine was down)", n, before+300, before)
	}
}
