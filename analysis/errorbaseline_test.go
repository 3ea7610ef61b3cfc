package analysis

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestErrorBaseline_PoolsTheStableRevision: a canary with 5× the stable
// revision's errors beside a like-for-like baseline of its own size is
// rolled back by the ErrorTest sooner when the error tests compare it
// with the whole stable revision (Observation.ErrorBaseline), and a
// canary as good as the stable revision is not rolled back either way.
func TestErrorBaseline_PoolsTheStableRevision(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// 1,000 requests/s: canary 5%, like-for-like baseline 5%, primary 90%.
	run := func(seed uint64, canaryRate float64, pooled bool) (int, Verdict) {
		r := rand.New(rand.NewPCG(seed, 1))
		a, err := New(DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		ready := Instances{Total: 1, Ready: 1, NewestReady: t0.Add(-time.Hour)}
		for s := 1; s <= 1200; s++ {
			c := Window{Requests: 50, Errors: binomial(r, 50, canaryRate)}
			b := Window{Requests: 50, Errors: binomial(r, 50, 0.002)}
			obs := Observation{At: t0.Add(time.Duration(s) * time.Second), Canary: c, Baseline: b,
				CanaryInstances: ready, BaselineInstances: ready}
			if pooled {
				primary := binomial(r, 900, 0.002)
				obs.ErrorBaseline = &Window{Requests: 950, Errors: primary + b.Errors}
			}
			if v := a.Observe(obs); v.Action == Rollback {
				return s, v
			}
		}
		return 0, Verdict{}
	}
	var alone, pooled []int
	for seed := range uint64(20) {
		sa, va := run(seed, 0.01, false)
		sp, vp := run(seed, 0.01, true)
		if sa == 0 || sp == 0 || va.Reasons[0].Trigger != ErrorTest || vp.Reasons[0].Trigger != ErrorTest {
			t.Fatalf("seed %d: 5× canary: like-for-like only %ds %v, pooled %ds %v; want both rolled back by ErrorTest", seed, sa, va.Reasons, sp, vp.Reasons)
		}
		alone, pooled = append(alone, sa), append(pooled, sp)
		if s, v := run(seed+100, 0.002, true); s != 0 {
			t.Errorf("seed %d: a canary as good as the stable revision rolled back after %ds: %v", seed, s, v.Reasons)
		}
	}
	sumA, sumP := 0, 0
	for i := range alone {
		sumA, sumP = sumA+alone[i], sumP+pooled[i]
	}
	if sumP >= sumA {
		t.Errorf("pooled error baseline caught the 5× canary in %ds in total over 20 runs, like-for-like alone in %ds; want sooner", sumP, sumA)
	}
	t.Logf("5× errors (0.2%% vs 1%%, canary 50 requests/s): caught in %.1fs on average with the pooled error baseline, %.1fs against the like-for-like baseline alone",
		float64(sumP)/20, float64(sumA)/20)
}
