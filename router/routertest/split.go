package routertest

import (
	"math"
	"net/http"
	"testing"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router"
)

// testEvenSplit: without weights every ready instance of every revision
// takes a share of the requests.
func testEvenSplit(t *testing.T, h Harness) {
	addr := open(t, h, router.Environment{App: "even", Name: "test"})
	us := []*upstream{start(t, "even", "test", 1, "a"), start(t, "even", "test", 1, "b"), start(t, "even", "test", 2, "c")}
	setInstances(t, h, "even", "test", us...)
	got := count(t, addr, 300)
	for _, u := range us {
		if got[u.ID] == 0 {
			t.Errorf("instance %s got none of 300 requests: %s", u.ID, describe(got))
		}
	}
	if got["a"]+got["b"]+got["c"] != 300 {
		t.Errorf("not every request was answered by an instance: %s", describe(got))
	}
}

// testWeights: a 90/10 split sends about a tenth of the requests to the
// canary, and 0/100 sends it everything.
func testWeights(t *testing.T, h Harness) {
	addr := open(t, h, router.Environment{App: "weights", Name: "test"})
	stable, canary := start(t, "weights", "test", 1, "stable"), start(t, "weights", "test", 2, "canary")
	setInstances(t, h, "weights", "test", stable, canary)
	setTraffic(t, h, "weights", "test", rollout.Traffic{Weights: map[int]int{1: 90, 2: 10}})
	got := count(t, addr, 1000)
	// Binomial(1000, 0.1): 100 ± 9.5; [50, 160] is more than 5 standard deviations wide.
	if c := got["canary"]; c < 50 || c > 160 || got["stable"]+c != 1000 {
		t.Errorf("90/10 split: %s; want about 100 of 1000 on the canary", describe(got))
	}
	setTraffic(t, h, "weights", "test", rollout.Traffic{Weights: map[int]int{1: 0, 2: 100}})
	if got := count(t, addr, 50); got["canary"] != 50 {
		t.Errorf("0/100 split: %s; want every request on the canary", describe(got))
	}
}

// testOnlyReady: instances that are not ready, starting or terminating take no traffic.
func testOnlyReady(t *testing.T, h Harness) {
	addr := open(t, h, router.Environment{App: "ready", Name: "test"})
	ok := start(t, "ready", "test", 1, "ok")
	unready := start(t, "ready", "test", 1, "unready")
	unready.Ready = false
	starting := start(t, "ready", "test", 1, "starting")
	starting.State, starting.Ready = rollout.Starting, false
	terminating := start(t, "ready", "test", 1, "terminating")
	terminating.State, terminating.Ready = rollout.Terminating, false
	setInstances(t, h, "ready", "test", ok, unready, starting, terminating)
	if got := count(t, addr, 40); got["ok"] != 40 {
		t.Errorf("requests went beyond the one ready instance: %s", describe(got))
	}
	setInstances(t, h, "ready", "test", unready)
	if code, _, _, err := get(addr, "/"); err != nil || code != http.StatusServiceUnavailable {
		t.Errorf("with no ready instance: %d %v, want 503", code, err)
	}
}

// testMaintenance: in maintenance every request gets 503 with Retry-After;
// afterwards the instances serve again.
func testMaintenance(t *testing.T, h Harness) {
	addr := open(t, h, router.Environment{App: "maint", Name: "test"})
	setInstances(t, h, "maint", "test", start(t, "maint", "test", 1, "a"))
	if err := h.Router.SetMaintenance("maint", "test", true); err != nil {
		t.Fatal(err)
	}
	code, _, hdr, err := get(addr, "/")
	if err != nil || code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
		t.Errorf("in maintenance: %d Retry-After=%q %v, want 503 with Retry-After", code, hdr.Get("Retry-After"), err)
	}
	// Instances that change during maintenance stay out of traffic.
	setInstances(t, h, "maint", "test", start(t, "maint", "test", 1, "b"))
	if code, body, _, _ := get(addr, "/"); code != http.StatusServiceUnavailable {
		t.Errorf("in maintenance after new instances: %d %q, want 503", code, body)
	}
	if err := h.Router.SetMaintenance("maint", "test", false); err != nil {
		t.Fatal(err)
	}
	if got := count(t, addr, 10); got["b"] != 10 {
		t.Errorf("after maintenance: %s, want every request on b", describe(got))
	}
}

// testStats: the stats and metrics count each revision's requests and
// errors, and report the shares set.
func testStats(t *testing.T, h Harness) {
	addr := open(t, h, router.Environment{App: "stats", Name: "test"})
	good, bad := start(t, "stats", "test", 1, "good"), start(t, "stats", "test", 2, "bad")
	bad.status.Store(http.StatusInternalServerError)
	setInstances(t, h, "stats", "test", good, bad)
	setTraffic(t, h, "stats", "test", rollout.Traffic{Weights: map[int]int{1: 75, 2: 25}})
	got := count(t, addr, 200)
	n1, n2 := uint64(got["good"]), uint64(got["500 bad"])
	if n1+n2 != 200 || n2 == 0 {
		t.Fatalf("answers: %s; want 200 from good and bad together, some from bad", describe(got))
	}
	var stats map[int]router.RevisionStats
	waitFor(t, h, "the stats to count 200 requests", func() (bool, string) {
		stats = map[int]router.RevisionStats{}
		for _, s := range h.Router.Stats("stats", "test") {
			stats[s.Revision] = s
		}
		return stats[1].Requests+stats[2].Requests == 200, describeStats(stats)
	})
	if s := stats[1]; s.Requests != n1 || s.Errors != 0 || math.Abs(s.Weight-75) > 0.01 {
		t.Errorf("revision 1: %+v; want %d requests, no errors, weight 75", s, n1)
	}
	if s := stats[2]; s.Requests != n2 || s.Errors != n2 || math.Abs(s.Weight-25) > 0.01 {
		t.Errorf("revision 2: %+v; want %d requests, all errors, weight 25", s, n2)
	}
	m := h.Router.RevisionMetrics("stats", "test")
	if m[1].Requests != n1 || m[2].Requests != n2 || m[2].Errors != n2 || m[1].Errors != 0 {
		t.Errorf("RevisionMetrics = %+v; want %d requests on 1, %d requests and errors on 2", m, n1, n2)
	}
	var total uint64
	for _, c := range m[1].LatencyCounts {
		total += c
	}
	if len(m[1].LatencyBounds) == 0 || len(m[1].LatencyBounds) != len(m[1].LatencyCounts) || total != n1 {
		t.Errorf("revision 1's latency histogram: %d bounds, %d buckets counting %d requests; want matching buckets that count all %d",
			len(m[1].LatencyBounds), len(m[1].LatencyCounts), total, n1)
	}
}

func describeStats(m map[int]router.RevisionStats) string {
	out := ""
	for _, s := range m {
		out += " " + formatStats(s)
	}
	return out
}
