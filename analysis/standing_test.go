package analysis

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

func checkOf(t *testing.T, s Standing, tr Trigger) Check {
	t.Helper()
	for _, c := range s.Checks {
		if c.Trigger == tr {
			return c
		}
	}
	t.Fatalf("standing has no %s check: %+v", tr, s.Checks)
	return Check{}
}

// TestAnalyzer_Standing: between decisions the standing shows the
// sequential tests' e-values growing on the counts they compared, and at
// the decision it holds the same numbers as the verdict's reasons; taking
// it changes nothing.
func TestAnalyzer_Standing(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Disabled = []Trigger{ErrorRate}
	a := mustNew(t, cfg)
	s := errStream{r: rand.New(rand.NewPCG(11, 11)), total: 1000, share: constShare(0.05), baseRate: 0.001, canaryRate: 0.005, start: t0}
	var v Verdict
	var obs Observation
	var sum [2]uint64 // canary requests and errors fed
	var prevE float64
	grew := 0
	for range 900 {
		obs = s.next()
		obs.CanaryInstances = Instances{Total: 2, Unhealthy: 0}
		sum[0] += obs.Canary.Requests
		sum[1] += obs.Canary.Errors
		before := a.State()
		st := a.Standing(obs)
		if !reflect.DeepEqual(before, a.State()) {
			t.Fatal("Standing changed the analyzer's state")
		}
		if v = a.Observe(obs); v.Action == Rollback {
			break
		}
		st = a.Standing(obs)
		et := checkOf(t, st, ErrorTest)
		if et.Kind != Sequential || et.Unit != EValue || math.Abs(et.Threshold-2/cfg.Alpha) > 1e-9 || et.Met {
			t.Fatalf("ErrorTest before the rollback = %+v", et)
		}
		if et.Canary.Total != sum[0] || et.Canary.Events != sum[1] {
			t.Fatalf("ErrorTest counts canary %+v, fed %d requests %d errors", *et.Canary, sum[0], sum[1])
		}
		if et.Value < prevE {
			t.Fatalf("ErrorTest's largest e-value fell from %g to %g", prevE, et.Value)
		}
		if et.Value > prevE {
			grew++
		}
		prevE = et.Value
		if et.EValue > et.Value {
			t.Fatalf("current e-value %g above the largest seen %g", et.EValue, et.Value)
		}
		if c := checkOf(t, st, ErrorRate); !c.Disabled {
			t.Fatalf("ErrorRate = %+v, want shown as disabled", c)
		}
		if c := checkOf(t, st, UnhealthyInstances); c.Canary.Total != 2 || c.Met || !c.Judged {
			t.Fatalf("UnhealthyInstances = %+v, want 0 of 2 judged", c)
		}
	}
	if v.Action != Rollback || grew < 2 {
		t.Fatalf("verdict %v after the e-value grew %d times, want a rollback after it grew", v, grew)
	}
	r, _ := v.Reason(ErrorTest)
	et := checkOf(t, a.Standing(obs), ErrorTest)
	if !et.Met || et.Value != r.Observed || math.Abs(et.Threshold-r.Threshold) > 1e-9 {
		t.Fatalf("ErrorTest at the rollback = %+v, want met with the verdict's %g ≥ %g", et, r.Observed, r.Threshold)
	}
}

// TestAnalyzer_StandingPromote: the promote checks count the step's
// requests and show their evidence met once the verdict is Promote.
func TestAnalyzer_StandingPromote(t *testing.T) {
	a := mustNew(t, DefaultConfig())
	s := errStream{r: rand.New(rand.NewPCG(5, 5)), total: 1000, share: constShare(0.2), baseRate: 0.001, canaryRate: 0.001, start: t0}
	var v Verdict
	var obs Observation
	for range 900 {
		obs = s.next()
		obs.Step = 1
		if v = a.Observe(obs); v.Action == Promote {
			break
		}
	}
	if v.Action != Promote {
		t.Fatalf("no promotion: %v", v)
	}
	st := a.Standing(obs)
	if st.Step != 1 {
		t.Errorf("step = %d, want 1", st.Step)
	}
	tr := checkOf(t, st, Traffic)
	ev := checkOf(t, st, ErrorEvidence)
	r, _ := v.Reason(ErrorEvidence)
	if !tr.Promote || !tr.Met || tr.Value < float64(DefaultConfig().MinRequests) {
		t.Errorf("Traffic = %+v, want met", tr)
	}
	if !ev.Promote || !ev.Met || ev.Value != r.Observed || ev.Threshold != r.Threshold || ev.Canary.Total != uint64(tr.Value) {
		t.Errorf("ErrorEvidence = %+v, want met with the verdict's %g ≥ %g on the step's %g requests", ev, r.Observed, r.Threshold, tr.Value)
	}
}

// TestAnalyzer_StandingLatency: LatencyTest shows one check per quantile
// it tests, p95 and the median, each against the latency level.
func TestAnalyzer_StandingLatency(t *testing.T) {
	a := mustNew(t, DefaultConfig())
	r := rand.New(rand.NewPCG(3, 3))
	var obs Observation
	for i := range 30 {
		obs = latencyObs(r, i, 1)
		a.Observe(obs)
	}
	var qs []float64
	for _, c := range a.Standing(obs).Checks {
		if c.Trigger != LatencyTest {
			continue
		}
		qs = append(qs, c.Quantile)
		if c.Kind != Sequential || c.Met || !c.Judged || c.Canary.Total == 0 || c.LatencyLimitMs <= 0 || c.Threshold <= 2/DefaultConfig().Alpha {
			t.Errorf("LatencyTest %g = %+v, want judged on counts, not met, against its level", c.Quantile, c)
		}
	}
	if !reflect.DeepEqual(qs, []float64{0.95, 0.5}) {
		t.Errorf("LatencyTest quantiles = %v, want [0.95 0.5]", qs)
	}
}
