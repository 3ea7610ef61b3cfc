package analysis

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustNew(t *testing.T, cfg Config) *Analyzer {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAnalyzer_HoldsWithTooLittleTraffic(t *testing.T) {
	a := mustNew(t, DefaultConfig())
	var v Verdict
	for i := range 4 {
		v = a.Observe(Observation{At: at(i + 1), Step: 1, Baseline: Window{Requests: 1000}, Canary: Window{Requests: 53}})
	}
	if v.Action != Hold {
		t.Fatalf("action = %v, want Hold", v.Action)
	}
	r, ok := v.Reason(Traffic)
	if !ok || r.Fired || r.Observed != 212 || r.Threshold != 500 {
		t.Fatalf("traffic reason = %+v, want observed 212, threshold 500, not fired", r)
	}
	if want := "need ≥ 500 compared canary requests in this step, have 212"; r.Message != want {
		t.Fatalf("message = %q, want %q", r.Message, want)
	}
}

func TestAnalyzer_NoTrafficNeverPromotes(t *testing.T) {
	a := mustNew(t, DefaultConfig())
	for i := range 3600 {
		v := a.Observe(Observation{At: at(i + 1), Baseline: Window{Requests: 1000}})
		if v.Action != Hold {
			t.Fatalf("second %d: action = %v, want Hold", i+1, v)
		}
	}
}

// A healthy canary is promoted only after MinRequests and evidence, and a
// new step needs both again.
func TestAnalyzer_PromotesOnlyWithEvidence(t *testing.T) {
	a := mustNew(t, DefaultConfig())
	s := errStream{r: rand.New(rand.NewPCG(7, 7)), total: 1000, share: constShare(0.05), baseRate: 0.001, canaryRate: 0.001, start: t0}
	var canary uint64
	sawContinue := false
	promotedAt := -1
	for i := range 1800 {
		o := s.next()
		canary += o.Canary.Requests
		v := a.Observe(o)
		switch v.Action {
		case Rollback:
			t.Fatalf("second %d: healthy canary rolled back: %v", i+1, v)
		case Hold:
			if canary >= 500 {
				t.Fatalf("second %d: Hold with %d canary requests: %v", i+1, canary, v)
			}
		case Continue:
			sawContinue = true
			if r, ok := v.Reason(ErrorEvidence); !ok || r.Fired {
				t.Fatalf("second %d: Continue without an unmet ErrorEvidence reason: %v", i+1, v)
			}
		case Promote:
			if canary < 500 {
				t.Fatalf("second %d: Promote with %d canary requests", i+1, canary)
			}
			if r, ok := v.Reason(ErrorEvidence); !ok || !r.Fired || r.Observed < r.Threshold {
				t.Fatalf("second %d: Promote without error evidence: %v", i+1, v)
			}
			promotedAt = i + 1
		}
		if promotedAt > 0 {
			break
		}
	}
	if !sawContinue || promotedAt < 0 {
		t.Fatalf("saw Continue = %v, promoted at second %d; want Continue before a Promote within 30 minutes", sawContinue, promotedAt)
	}

	o := s.next()
	o.Step = 1
	if v := a.Observe(o); v.Action != Hold {
		t.Fatalf("first observation of a new step: %v, want Hold", v)
	}
}

func TestAnalyzer_RollbackIsFinal(t *testing.T) {
	a := mustNew(t, DefaultConfig())
	v := a.Observe(Observation{At: at(1), Baseline: quiet, CanaryInstances: Instances{Total: 1, Unhealthy: 1}})
	if v.Action != Rollback {
		t.Fatalf("action = %v, want Rollback", v)
	}
	later := a.Observe(Observation{At: at(2), Baseline: quiet, Canary: Window{Requests: 1000}, CanaryInstances: Instances{Total: 1}})
	if !reflect.DeepEqual(later, v) {
		t.Fatalf("after a rollback: %v, want the rollback verdict %v", later, v)
	}
}

func TestAnalyzer_ErrorTest(t *testing.T) {
	tests := []struct {
		name       string
		canaryRate float64
		fire       bool
	}{
		{"5× the baseline's errors", 0.005, true},
		{"the baseline's errors", 0.001, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Disabled = []Trigger{ErrorRate}
			a := mustNew(t, cfg)
			s := errStream{r: rand.New(rand.NewPCG(11, 11)), total: 1000, share: constShare(0.05), baseRate: 0.001, canaryRate: tt.canaryRate, start: t0}
			var v Verdict
			for range 900 {
				if v = a.Observe(s.next()); v.Action == Rollback {
					break
				}
			}
			r, ok := v.Reason(ErrorTest)
			if ok != tt.fire {
				t.Fatalf("ErrorTest fired = %v, want %v: %v", ok, tt.fire, v)
			}
			if ok && (r.Observed < 200 || r.Threshold != 200 || !strings.Contains(r.Message, "e-value") || !strings.Contains(r.Message, "≥ 200")) {
				t.Fatalf("reason = %+v, want an e-value ≥ 200 explained", r)
			}
		})
	}
}

// latencyObs returns one second of 200 requests, a quarter on the canary,
// the canary's latencies scaled by slower.
func latencyObs(r *rand.Rand, i int, slower float64) Observation {
	nc := int(binomial(r, 200, 0.25))
	return Observation{
		At:       at(i + 1),
		Baseline: Window{Requests: uint64(200 - nc), Latency: lognormal(r, 200-nc, 50*time.Millisecond, 0.5)},
		Canary:   Window{Requests: uint64(nc), Latency: lognormal(r, nc, time.Duration(slower*float64(50*time.Millisecond)), 0.5)},
	}
}

func TestAnalyzer_LatencyTest(t *testing.T) {
	tests := []struct {
		name   string
		slower float64
		fire   bool
	}{
		{"canary 50% slower", 1.5, true},
		{"canary as fast", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Disabled = []Trigger{LatencyRatio}
			a := mustNew(t, cfg)
			r := rand.New(rand.NewPCG(5, 5))
			var v Verdict
			for i := range 300 {
				if v = a.Observe(latencyObs(r, i, tt.slower)); v.Action == Rollback {
					break
				}
			}
			if _, ok := v.Reason(LatencyTest); ok != tt.fire {
				t.Fatalf("LatencyTest fired = %v, want %v: %v", ok, tt.fire, v)
			}
			if !tt.fire {
				if v.Action != Promote {
					t.Fatalf("an equally fast canary after 5 minutes: %v, want Promote", v)
				}
			}
		})
	}
}

func TestAnalyzer_Deterministic(t *testing.T) {
	run := func() []Verdict {
		a := mustNew(t, DefaultConfig())
		r := rand.New(rand.NewPCG(9, 9))
		var out []Verdict
		for i := range 120 {
			o := latencyObs(r, i, 1.2)
			o.Canary.Errors = binomial(r, o.Canary.Requests, 0.01)
			o.Baseline.Errors = binomial(r, o.Baseline.Requests, 0.002)
			o.Step = i / 40
			out = append(out, a.Observe(o))
		}
		return out
	}
	first, second := run(), run()
	if !reflect.DeepEqual(first, second) {
		t.Fatal("two runs over the same observations gave different verdicts")
	}
}

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(*Config)
		want  string
	}{
		{"defaults", func(*Config) {}, ""},
		{"zero config takes defaults", func(c *Config) { *c = Config{} }, ""},
		{"alpha above 1", func(c *Config) { c.Alpha = 1.5 }, "alpha is 1.5"},
		{"latency ratio 1", func(c *Config) { c.MaxLatencyRatio = 1 }, "maxLatencyRatio is 1"},
		{"margin below 1", func(c *Config) { c.PromoteMargin = 0.5 }, "promoteMargin is 0.5"},
		{"negative count", func(c *Config) { c.MinRequests = -1 }, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.tweak(&cfg)
			_, err := New(cfg)
			if got := err != nil; got != (tt.want != "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("New() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestEnums_RoundTrip(t *testing.T) {
	for v := Continue; v <= Rollback; v++ {
		var got Action
		if err := got.UnmarshalText([]byte(v.String())); err != nil || got != v {
			t.Errorf("Action %v round trip = %v, %v", v, got, err)
		}
	}
	for v := UnhealthyInstances; v <= LatencyEvidence; v++ {
		var got Trigger
		if err := got.UnmarshalText([]byte(v.String())); err != nil || got != v {
			t.Errorf("Trigger %v round trip = %v, %v", v, got, err)
		}
	}
	if got := Action(0).String(); got != "Action(0)" {
		t.Errorf("Action(0) = %q", got)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{count(22840), "22,840"}, {count(1203), "1,203"}, {count(212), "212"}, {count(1234567), "1,234,567"},
		{pct(0.079), "7.9%"}, {pct(0.001), "0.1%"}, {pct(0), "0%"},
		{num(1234), "1.2e3"}, {num(2.31), "2.31"}, {num(200), "200"},
		{quantileName(0.95), "p95"}, {quantileName(0.999), "p99.9"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// A canary worse than the margin must not be shown "not worse": with the
// rollback triggers off, it stays at Continue.
func TestAnalyzer_NoPromoteBeyondMargin(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Disabled = []Trigger{ErrorTest, ErrorRate}
	a := mustNew(t, cfg)
	// 2.5× the baseline's errors, both well above NegligibleErrorRate.
	s := errStream{r: rand.New(rand.NewPCG(13, 13)), total: 1000, share: constShare(0.05), baseRate: 0.01, canaryRate: 0.025, start: t0}
	for i := range 1800 {
		if v := a.Observe(s.next()); v.Action == Promote || v.Action == Rollback {
			t.Fatalf("second %d: %v, want Hold or Continue", i+1, v)
		}
	}
}

// After a blue-green switch the baseline serves nothing: the comparative
// tests have no evidence, and the verdict rests on the canary alone.
func TestAnalyzer_AllTrafficOnCanary(t *testing.T) {
	tests := []struct {
		name   string
		errors uint64
		want   Action
	}{
		{"no errors: shown negligible", 0, Promote},
		{"6% errors: above the 5xx limit", 12, Rollback},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustNew(t, DefaultConfig())
			r := rand.New(rand.NewPCG(17, 17))
			var v Verdict
			for i := range 10 {
				v = a.Observe(Observation{
					At:       at(i + 1),
					Baseline: Window{Latency: durations{}},
					Canary:   Window{Requests: 200, Errors: tt.errors, Latency: lognormal(r, 200, 50*time.Millisecond, 0.5)},
				})
			}
			if v.Action != tt.want {
				t.Fatalf("verdict %v, want %v", v, tt.want)
			}
		})
	}
}

// A step in which the canary's latency was never compared with a serving
// baseline's (the engine hides the canary's latency while new instances
// warm up) is not promoted on error evidence alone.
func TestAnalyzer_NoPromoteWithoutLatencyComparison(t *testing.T) {
	a := mustNew(t, DefaultConfig())
	r := rand.New(rand.NewPCG(3, 3))
	for i := range 20 {
		v := a.Observe(Observation{
			At:       at(i + 1),
			Baseline: Window{Requests: 200, Latency: lognormal(r, 200, 50*time.Millisecond, 0.5)},
			Canary:   Window{Requests: 200},
		})
		if v.Action == Promote {
			t.Fatalf("second %d: promoted without any latency comparison: %v", i+1, v)
		}
		if i == 19 {
			if rs, ok := v.Reason(LatencyEvidence); !ok || rs.Fired {
				t.Fatalf("verdict %v lacks the unfired latency evidence", v)
			}
		}
	}
}
