package analysis

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// shifted returns one second of 1,000 requests, 5% on the canary, latencies
// lognormal around med; the canary's are multiplied by scale and shifted
// by add.
func shifted(r *rand.Rand, i int, med time.Duration, scale float64, add time.Duration) Observation {
	nc := int(binomial(r, 1000, 0.05))
	can := lognormal(r, nc, med, 0.5)
	for j := range can {
		can[j] = time.Duration(float64(can[j])*scale) + add
	}
	return Observation{
		At:       at(i + 1),
		Baseline: Window{Requests: uint64(1000 - nc), Latency: lognormal(r, 1000-nc, med, 0.5)},
		Canary:   Window{Requests: uint64(nc), Latency: can},
	}
}

// The latency tests roll back only for a difference beyond the margins:
// both more than 10% and more than 5ms slower at p95.
func TestAnalyzer_LatencyMargins(t *testing.T) {
	tests := []struct {
		name  string
		med   time.Duration
		scale float64
		add   time.Duration
		cfg   func(*Config)
		fire  bool
	}{
		{name: "sub-millisecond, 3× slower but under 5ms more", med: 300 * time.Microsecond, scale: 3},
		{name: "sub-millisecond, 3× slower without margins", med: 300 * time.Microsecond, scale: 3,
			cfg: func(c *Config) { c.LatencyMargin, c.LatencyMarginAbs = -1, -1 }, fire: true},
		{name: "50ms, 5% slower", med: 50 * time.Millisecond, scale: 1.05},
		{name: "50ms, 50% slower", med: 50 * time.Millisecond, scale: 1.5, fire: true},
		{name: "20ms, +20ms", med: 20 * time.Millisecond, scale: 1, add: 20 * time.Millisecond, fire: true},
		// p95 45.6ms → 55.6ms is beyond the margins, but only 2× the
		// baseline's share lies above the limit: as much as a busy machine
		// gives a healthy canary (see slowShareRatio); the median, 20ms →
		// 30ms, is what shows it (medShareRatio).
		{name: "20ms, +10ms", med: 20 * time.Millisecond, scale: 1, add: 10 * time.Millisecond, fire: true},
		{name: "20ms, +10ms, p95 only", med: 20 * time.Millisecond, scale: 1, add: 10 * time.Millisecond,
			cfg: func(c *Config) { c.LatencyMarginAbs = 11 * time.Millisecond }},
		{name: "20ms, +4ms (under 5ms)", med: 20 * time.Millisecond, scale: 1, add: 4 * time.Millisecond},
		{name: "50ms, 8% slower (under 10%)", med: 50 * time.Millisecond, scale: 1.08},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Disabled = []Trigger{LatencyRatio}
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			a := mustNew(t, cfg)
			r := rand.New(rand.NewPCG(3, 3))
			var v Verdict
			for i := range 600 {
				if v = a.Observe(shifted(r, i, tt.med, tt.scale, tt.add)); v.Action == Rollback {
					break
				}
			}
			if _, fired := v.Reason(LatencyTest); fired != tt.fire {
				t.Fatalf("LatencyTest fired = %v, want %v: %v", fired, tt.fire, v)
			}
		})
	}
}

// A slowdown both groups share (the baseline's recent p95 lags behind it)
// does not fire LatencyTest: the canary is not slower than the baseline.
func TestAnalyzer_SharedSlowdown(t *testing.T) {
	a := mustNew(t, DefaultConfig())
	r := rand.New(rand.NewPCG(4, 4))
	for i := range 600 {
		med := 20 * time.Millisecond
		if i >= 60 {
			med = 60 * time.Millisecond // everything three times slower from the first minute on
		}
		o := shifted(r, i, med, 1, 0)
		o.Baseline.Latency = lognormal(r, int(o.Baseline.Requests), med, 0.5)
		if v := a.Observe(o); v.Action == Rollback {
			t.Fatalf("second %d: %v", i+1, v)
		}
	}
}

// An error rate only a little higher than the baseline's stays under the
// margin; one far above it is caught.
func TestAnalyzer_ErrorMargin(t *testing.T) {
	run := func(cfg Config, canaryRate float64) Verdict {
		a := mustNew(t, cfg)
		s := errStream{r: rand.New(rand.NewPCG(11, 11)), total: 1000, share: constShare(0.3), baseRate: 0.01, canaryRate: canaryRate, start: t0}
		var v Verdict
		for range 3600 {
			if v = a.Observe(s.next()); v.Action == Rollback {
				break
			}
		}
		return v
	}
	if v := run(DefaultConfig(), 0.0105); v.Action == Rollback {
		t.Errorf("5%% more errors, within the 25%% margin, rolled back: %v", v)
	}
	if v := run(DefaultConfig(), 0.02); v.Action != Rollback || v.Reasons[0].Trigger != ErrorTest {
		t.Errorf("2× the errors: %v, want Rollback by ErrorTest", v)
	} else if !strings.Contains(v.Reasons[0].Message, "more than 1.25× the baseline's rate") {
		t.Errorf("message %q does not name the margin", v.Reasons[0].Message)
	}
}

// A canary instance's first requests are not compared: a slow start does
// not roll back, and the verdict says why it holds.
func TestAnalyzer_WarmUp(t *testing.T) {
	a := mustNew(t, DefaultConfig())
	ready := at(0)
	r := rand.New(rand.NewPCG(6, 6))
	for i := range 120 {
		o := shifted(r, i, 20*time.Millisecond, 1, 0)
		o.CanaryInstances = Instances{Total: 2, Ready: 2, NewestReady: ready}
		if i < 9 {
			// Cold: every canary request takes 200ms, and 4% fail (under
			// ErrorRate's 5%, which judges warm-ups too).
			o.Canary.Latency = repeat(int(o.Canary.Requests), 200*time.Millisecond)
			o.Canary.Errors = o.Canary.Requests / 25
		}
		v := a.Observe(o)
		if v.Action == Rollback {
			t.Fatalf("second %d: %v", i+1, v)
		}
		if i == 2 {
			w, ok := v.Reason(WarmUp)
			if v.Action != Hold || !ok || !strings.Contains(w.Message, "canary ready for 3s of 10s") {
				t.Fatalf("second 3: %v, want Hold by WarmUp", v)
			}
		}
	}
	// Without warm-up the same start is rolled back.
	cfg := DefaultConfig()
	cfg.WarmUp, cfg.WarmUpRequests = -1, -1
	a = mustNew(t, cfg)
	o := shifted(r, 0, 20*time.Millisecond, 1, 0)
	o.Canary = Window{Requests: 200, Errors: 8, Latency: repeat(200, 200*time.Millisecond)}
	o.CanaryInstances = Instances{Total: 2, Ready: 2, NewestReady: ready}
	if v := a.Observe(o); v.Action != Rollback {
		t.Fatalf("without warm-up: %v, want Rollback", v)
	}
}

// Fresh baseline instances that have not answered their health check yet
// are not taken as reporting no failing dependency: the Dependency
// trigger waits for their answer (a shared outage then holds), and for at
// most BaselineHealthWait.
func TestAnalyzer_DependencyWaitsForTheBaselinesHealth(t *testing.T) {
	db := []string{"database:connection (dial tcp: connection refused)"}
	canary := Instances{Total: 1, HealthReported: 1, DependencyFailures: db}
	unheard := Instances{Total: 1}
	t.Run("baseline answers with the same failure", func(t *testing.T) {
		a := mustNew(t, DefaultConfig())
		v := a.Observe(Observation{At: at(1), Baseline: quiet, Canary: Window{Requests: 10}, CanaryInstances: canary, BaselineInstances: unheard})
		if v.Action == Rollback {
			t.Fatalf("baseline not heard yet: %v, want no rollback", v)
		}
		if c := dependencyCheck(t, a, Observation{CanaryInstances: canary, BaselineInstances: unheard}); c.Judged || c.Runs != 0 {
			t.Fatalf("Dependency check while waiting: %+v, want not judged, no runs", c)
		}
		heard := Instances{Total: 1, HealthReported: 1, DependencyFailures: []string{"database:connection (timeout)"}}
		v = a.Observe(Observation{At: at(2), Baseline: quiet, Canary: Window{Requests: 10}, CanaryInstances: canary, BaselineInstances: heard})
		if _, ok := v.Reason(Environment); v.Action != Hold || !ok {
			t.Fatalf("shared outage once heard: %v, want Hold by Environment", v)
		}
	})
	t.Run("baseline answers healthy", func(t *testing.T) {
		a := mustNew(t, DefaultConfig())
		a.Observe(Observation{At: at(1), Baseline: quiet, Canary: Window{Requests: 10}, CanaryInstances: canary, BaselineInstances: unheard})
		v := a.Observe(Observation{At: at(2), Baseline: quiet, Canary: Window{Requests: 10}, CanaryInstances: canary, BaselineInstances: Instances{Total: 1, HealthReported: 1}})
		if v.Action != Rollback || v.Reasons[0].Trigger != Dependency {
			t.Fatalf("baseline healthy: %v, want Rollback by Dependency", v)
		}
	})
	t.Run("baseline never answers", func(t *testing.T) {
		a := mustNew(t, DefaultConfig())
		wait := int(BaselineHealthWait / time.Second)
		for i := 1; i <= wait; i++ {
			if v := a.Observe(Observation{At: at(i), Baseline: quiet, Canary: Window{Requests: 10}, CanaryInstances: canary, BaselineInstances: unheard}); v.Action == Rollback {
				t.Fatalf("after %ds of waiting: %v, want no rollback before %s", i-1, v, BaselineHealthWait)
			}
		}
		v := a.Observe(Observation{At: at(wait + 1), Baseline: quiet, Canary: Window{Requests: 10}, CanaryInstances: canary, BaselineInstances: unheard})
		if v.Action != Rollback || v.Reasons[0].Trigger != Dependency {
			t.Fatalf("after %s: %v, want Rollback by Dependency", BaselineHealthWait, v)
		}
	})
	t.Run("the wait survives a restart", func(t *testing.T) {
		a := mustNew(t, DefaultConfig())
		a.Observe(Observation{At: at(1), Baseline: quiet, Canary: Window{Requests: 10}, CanaryInstances: canary, BaselineInstances: unheard})
		b, err := Restore(DefaultConfig(), a.State())
		if err != nil {
			t.Fatal(err)
		}
		wait := int(BaselineHealthWait / time.Second)
		v := b.Observe(Observation{At: at(wait + 1), Baseline: quiet, Canary: Window{Requests: 10}, CanaryInstances: canary, BaselineInstances: unheard})
		if v.Action != Rollback || v.Reasons[0].Trigger != Dependency {
			t.Fatalf("restored, after %s: %v, want Rollback by Dependency", BaselineHealthWait, v)
		}
	})
}

func dependencyCheck(t *testing.T, a *Analyzer, last Observation) Check {
	t.Helper()
	for _, c := range a.Standing(last).Checks {
		if c.Trigger == Dependency {
			return c
		}
	}
	t.Fatal("no Dependency check in the standing")
	return Check{}
}

// A dependency both groups report failing is an environment problem: no
// rollback, no promotion; one only the canary reports rolls back.
func TestAnalyzer_SharedDependency(t *testing.T) {
	a := mustNew(t, DefaultConfig())
	db := []string{"database:connection (dial tcp: connection refused)"}
	var v Verdict
	for i := range 30 {
		v = a.Observe(Observation{At: at(i + 1), Baseline: Window{Requests: 900, Errors: 90}, Canary: Window{Requests: 100, Errors: 10},
			CanaryInstances:   Instances{Total: 1, DependencyFailures: db},
			BaselineInstances: Instances{DependencyFailures: []string{"database:connection (timeout)"}}})
	}
	if r, ok := v.Reason(Environment); v.Action != Hold || !ok || !strings.Contains(r.Message, "database:connection") {
		t.Fatalf("shared outage: %v, want Hold by Environment", v)
	}
	v = a.Observe(Observation{At: at(31), Baseline: quiet, Canary: Window{Requests: 100}, CanaryInstances: Instances{Total: 1, DependencyFailures: db}})
	if v.Action != Rollback || v.Reasons[0].Trigger != Dependency {
		t.Fatalf("canary alone: %v, want Rollback by Dependency", v)
	}
}
