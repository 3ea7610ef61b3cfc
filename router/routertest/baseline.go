package routertest

import (
	"math"
	"net/http"
	"testing"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router"
)

// testBaseline: a canary's like-for-like baseline (instances of the
// stable revision in rollout.GroupBaseline) takes the share
// Traffic.Baseline, the stable revision's primary instances only
// Weights' share, and the router counts the two groups apart in Stats
// and, for a rollout.GroupMetricSource, in its metrics. Routers that
// count no groups are skipped: the engine then compares a canary with
// the stable revision's primary instances.
func testBaseline(t *testing.T, h Harness) {
	gm, ok := h.Router.(rollout.GroupMetricSource)
	if !ok {
		t.Skip("the router counts no groups (rollout.GroupMetricSource)")
	}
	addr := open(t, h, router.Environment{App: "base", Name: "test"})
	stable := start(t, "base", "test", 1, "stable")
	baseline := start(t, "base", "test", 1, "baseline")
	baseline.Group = rollout.GroupBaseline
	baseline.status.Store(http.StatusInternalServerError) // to tell its counts apart
	canary := start(t, "base", "test", 2, "canary")
	setInstances(t, h, "base", "test", stable, baseline, canary)
	setTraffic(t, h, "base", "test", rollout.Traffic{Weights: map[int]int{1: 60, 2: 20}, Baseline: 20})
	got := count(t, addr, 1000)
	// Binomial(1000, 0.2): 200 ± 12.6; [120, 290] is over 6 standard deviations wide.
	nb, nc, ns := got["500 baseline"], got["canary"], got["stable"]
	if nb < 120 || nb > 290 || nc < 120 || nc > 290 || ns+nb+nc != 1000 {
		t.Fatalf("60/20/20 split of stable/baseline/canary: %s; want about 200 of 1000 each on the baseline and the canary", describe(got))
	}

	key := func(s router.RevisionStats) router.Key { return router.Key{Revision: s.Revision, Group: s.Group} }
	primary, base := router.Key{Revision: 1}, router.Key{Revision: 1, Group: rollout.GroupBaseline}
	var stats map[router.Key]router.RevisionStats
	waitFor(t, h, "the stats to count 1000 requests", func() (bool, string) {
		stats = map[router.Key]router.RevisionStats{}
		var sum uint64
		for _, s := range h.Router.Stats("base", "test") {
			stats[key(s)] = s
			sum += s.Requests
		}
		return sum == 1000, describeKeyed(stats)
	})
	if s := stats[primary]; s.Requests != uint64(ns) || s.Errors != 0 || math.Abs(s.Weight-60) > 0.01 {
		t.Errorf("revision 1: %+v; want %d requests, no errors, weight 60", s, ns)
	}
	if s := stats[base]; s.Requests != uint64(nb) || s.Errors != uint64(nb) || math.Abs(s.Weight-20) > 0.01 {
		t.Errorf("revision 1 baseline: %+v; want %d requests, all errors, weight 20", s, nb)
	}
	if m := gm.RevisionMetrics("base", "test"); m[1].Requests != uint64(ns) || m[1].Errors != 0 || m[2].Requests != uint64(nc) {
		t.Errorf("RevisionMetrics = %+v; want %d requests on revision 1's primary instances, %d on 2", m, ns, nc)
	}
	if m := gm.GroupMetrics("base", "test", rollout.GroupBaseline); len(m) != 1 || m[1].Requests != uint64(nb) || m[1].Errors != uint64(nb) {
		t.Errorf("GroupMetrics(baseline) = %+v; want only revision 1, with %d requests and errors", m, nb)
	}

	// Without a baseline share its instances take nothing.
	setTraffic(t, h, "base", "test", rollout.Traffic{Weights: map[int]int{1: 90, 2: 10}})
	if got := count(t, addr, 100); got["500 baseline"] != 0 {
		t.Errorf("with no baseline share: %s; want nothing on the baseline", describe(got))
	}
}

func describeKeyed(m map[router.Key]router.RevisionStats) string {
	out := ""
	for _, s := range m {
		out += " " + formatStats(s)
	}
	return out
}
