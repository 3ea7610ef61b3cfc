package analysis

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestRatioTest_StartsAtOne(t *testing.T) {
	rt := newRatioTest(1, rollbackRatios)
	if got := eValue(rt.m.logE()); got != 1 {
		t.Fatalf("e-value before any event = %v, want 1", got)
	}
	// Intervals without events, or where one revision served nothing,
	// carry no evidence.
	rt.observe(0, 0, 0.05)
	rt.observe(3, 0, 1)
	rt.observe(0, 3, 0)
	if got := eValue(rt.m.logE()); got != 1 {
		t.Fatalf("e-value after evidence-free intervals = %v, want 1", got)
	}
}

func TestRatioTest_Direction(t *testing.T) {
	tests := []struct {
		name      string
		rho0      float64
		rhos      []float64
		xc, xb    uint64
		wantAbove bool
	}{
		{"rollback: events on the canary raise it", 1, rollbackRatios, 5, 5, true},
		{"rollback: events on the baseline lower it", 1, rollbackRatios, 0, 50, false},
		{"promote: events on the baseline raise it", 2, []float64{1.6, 1.2, 0.8, 0.4, 0}, 0, 50, true},
		{"promote: events on the canary lower it", 2, []float64{1.6, 1.2, 0.8, 0.4, 0}, 5, 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRatioTest(tt.rho0, tt.rhos)
			rt.observe(tt.xc, tt.xb, 0.05)
			if got := rt.m.logE() > 0; got != tt.wantAbove {
				t.Fatalf("e-value %v above 1 = %v, want %v", eValue(rt.m.logE()), got, tt.wantAbove)
			}
		})
	}
}

// falseAlarms runs streams under the given rates and returns the share
// of runs whose e-value ever reached level.
func falseAlarms(t *testing.T, seed uint64, runs, seconds int, share func(int) float64, rho0 float64, rhos []float64, baseRate, canaryRate, level float64) float64 {
	t.Helper()
	var alarms int
	for run := range runs {
		s := errStream{r: rand.New(rand.NewPCG(seed, uint64(run))), total: 1000, share: share, baseRate: baseRate, canaryRate: canaryRate}
		rt := newRatioTest(rho0, rhos)
		for range seconds {
			o := s.next()
			p := float64(o.Canary.Requests) / float64(o.Canary.Requests+o.Baseline.Requests)
			rt.observe(o.Canary.Errors, o.Baseline.Errors, p)
			if rt.m.peak >= math.Log(level) {
				alarms++
				break
			}
		}
	}
	return float64(alarms) / float64(runs)
}

// Under H0 the e-process is a supermartingale, so by Ville's inequality
// the share of streams ever reaching 1/a is at most a. The level a = 0.2
// is loose enough that a few hundred runs show a broken test.
func TestRatioTest_ValidUnderH0(t *testing.T) {
	shares := map[string]func(int) float64{
		"constant 5% share": constShare(0.05),
		// The weight steps up as a canary's does, and the actual counts
		// wander around it: the test must hold with p changing.
		"changing share": func(t int) float64 {
			return []float64{0.05, 0.25, 0.5, 0.75}[(t/60)%4]
		},
	}
	for name, share := range shares {
		t.Run(name, func(t *testing.T) {
			const a = 0.2
			// A high error rate gives many events per second: the
			// hardest case for validity.
			got := falseAlarms(t, 1, 300, 300, share, 1, rollbackRatios, 0.02, 0.02, 1/a)
			if got > a {
				t.Fatalf("share of H0 streams reaching e-value %v = %v, want ≤ %v", 1/a, got, a)
			}
		})
	}
}

// The promote test's null is ρ ≥ margin: a canary exactly margin times
// worse must rarely be shown better.
func TestRatioTest_PromoteValidAtMargin(t *testing.T) {
	const a, margin = 0.2, 2.0
	rhos := make([]float64, len(promoteFractions))
	for i, f := range promoteFractions {
		rhos[i] = f * margin
	}
	got := falseAlarms(t, 2, 300, 300, constShare(0.05), margin, rhos, 0.01, 0.02, 1/a)
	if got > a {
		t.Fatalf("share of streams at the margin shown better = %v, want ≤ %v", got, a)
	}
}

func TestRatioTest_GrowsUnderFiveTimesErrors(t *testing.T) {
	// 5% share, 0.1% baseline errors, 0.5% canary errors: about 1.2 events/s.
	s := errStream{r: rand.New(rand.NewPCG(3, 3)), total: 1000, share: constShare(0.05), baseRate: 0.001, canaryRate: 0.005}
	rt := newRatioTest(1, rollbackRatios)
	for range 600 {
		o := s.next()
		p := float64(o.Canary.Requests) / float64(o.Canary.Requests+o.Baseline.Requests)
		rt.observe(o.Canary.Errors, o.Baseline.Errors, p)
	}
	if got := eValue(rt.m.logE()); got < 1e6 {
		t.Fatalf("e-value after 10 minutes of a 5× canary = %v, want ≥ 1e6", got)
	}
}

func TestRateTest(t *testing.T) {
	tests := []struct {
		name      string
		x, n      uint64
		wantAbove bool
	}{
		{"no errors in 1,000 requests", 0, 1000, true},
		{"1% errors, above the 0.5% floor", 10, 1000, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRateTest(0.005, negligibleFractions)
			rt.observe(tt.x, tt.n)
			if got := rt.m.logE() > math.Log(20); got != tt.wantAbove {
				t.Fatalf("e-value %v ≥ 20 = %v, want %v", eValue(rt.m.logE()), got, tt.wantAbove)
			}
		})
	}
}
