package analysis

import (
	"math"
	"strings"
	"testing"
	"time"
)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

// quiet is a baseline interval with no errors and no latency.
var quiet = Window{Requests: 1000}

func instances(total, unhealthy int) Instances { return Instances{Total: total, Unhealthy: unhealthy} }

func memory(rss, limit int64) Instances {
	return Instances{Total: 1, MaxRSSBytes: rss, MemLimitBytes: limit}
}

func cpu(use, limit int64) Instances {
	return Instances{Total: 1, MaxCPUMillis: use, CPULimitMillis: limit}
}

// latencyWindow has n requests, over of them at 25ms and the rest at 10ms.
func latencyWindow(n, over int) Window {
	d := append(repeat(n-over, 10*time.Millisecond), repeat(over, 25*time.Millisecond)...)
	return Window{Requests: uint64(n), Latency: d}
}

// baselineLatency has a p95 of 10ms, so 2× p95 is 20ms.
var baselineLatency = Window{Requests: 1000, Latency: append(repeat(950, 10*time.Millisecond), repeat(50, 12*time.Millisecond)...)}

func TestAnalyzer_RollbackTriggers(t *testing.T) {
	noTests := []Trigger{ErrorTest, LatencyTest}
	tests := []struct {
		name     string
		disabled []Trigger
		tweak    func(*Config)
		obs      []Observation
		trigger  Trigger
		fire     bool
		observed float64
		limit    float64
		message  string
	}{
		{name: "unhealthy at 10% holds", obs: []Observation{{At: at(1), Baseline: quiet, CanaryInstances: instances(10, 1)}},
			trigger: UnhealthyInstances},
		{name: "unhealthy above 10% fires", obs: []Observation{{At: at(1), Baseline: quiet, CanaryInstances: instances(10, 2)}},
			trigger: UnhealthyInstances, fire: true, observed: 0.2, limit: 0.1, message: "2 of 10 canary instances unhealthy (20% > 10%)"},
		{name: "unhealthy disabled", disabled: []Trigger{UnhealthyInstances},
			obs:     []Observation{{At: at(1), Baseline: quiet, CanaryInstances: instances(10, 5)}},
			trigger: UnhealthyInstances},

		{name: "5xx at 5% holds", disabled: noTests,
			obs:     []Observation{{At: at(1), Baseline: quiet, Canary: Window{Requests: 100, Errors: 5}}},
			trigger: ErrorRate},
		{name: "5xx above 5% fires", disabled: noTests,
			obs:     []Observation{{At: at(1), Baseline: quiet, Canary: Window{Requests: 100, Errors: 6}}},
			trigger: ErrorRate, fire: true, observed: 0.06, limit: 0.05, message: "5xx 6% of 100 canary requests in the last 1m0s (> 5%); baseline 0% of 1,000"},
		{name: "5xx needs 100 canary requests", disabled: noTests,
			obs:     []Observation{{At: at(1), Baseline: quiet, Canary: Window{Requests: 99, Errors: 50}}},
			trigger: ErrorRate},
		{name: "5xx window adds intervals", disabled: noTests,
			obs: []Observation{
				{At: at(1), Baseline: quiet, Canary: Window{Requests: 50, Errors: 6}},
				{At: at(30), Baseline: quiet, Canary: Window{Requests: 60}},
			},
			trigger: ErrorRate, fire: true, observed: 6.0 / 110, limit: 0.05, message: "5xx 5.45% of 110"},
		{name: "5xx window forgets old intervals", disabled: noTests,
			obs: []Observation{
				{At: at(1), Baseline: quiet, Canary: Window{Requests: 50, Errors: 6}},
				{At: at(61), Baseline: quiet, Canary: Window{Requests: 60}},
			},
			trigger: ErrorRate},

		{name: "p95 at 2× baseline holds", disabled: noTests,
			obs:     seconds(60, baselineLatency, latencyWindow(100, 5)),
			trigger: LatencyRatio},
		{name: "p95 above 2× baseline, but within doubt, holds", disabled: noTests,
			obs:     seconds(60, baselineLatency, latencyWindow(100, 30)),
			trigger: LatencyRatio},
		{name: "p95 above 2× baseline beyond doubt fires", disabled: noTests,
			obs:     seconds(60, baselineLatency, latencyWindow(100, 40)),
			trigger: LatencyRatio, fire: true, observed: 0.40, limit: 0.05, message: "40% of 3,800 canary requests in the last 1m0s took over 20ms (2× the baseline p95 10ms, at least 5ms more), more than 5% beyond doubt"},
		{name: "every request above 2× baseline for 6 seconds fires", disabled: noTests,
			obs:     seconds(6, baselineLatency, latencyWindow(100, 100)),
			trigger: LatencyRatio, fire: true, observed: 1, limit: 0.05, message: "100% of 600 canary requests"},
		{name: "every request above 2× baseline for 5 seconds holds: one stall slows a whole interval", disabled: noTests,
			obs:     seconds(5, baselineLatency, latencyWindow(100, 100)),
			trigger: LatencyRatio},
		{name: "128 requests of a stalled canary in 3 seconds hold", disabled: noTests,
			obs:     seconds(3, baselineLatency, latencyWindow(43, 43)),
			trigger: LatencyRatio},
		{name: "p95 needs 100 canary requests", disabled: noTests,
			obs:     seconds(9, baselineLatency, latencyWindow(11, 11)),
			trigger: LatencyRatio},
		{name: "p95 ratio configurable", disabled: noTests, tweak: func(c *Config) { c.MaxLatencyRatio = 3 },
			obs:     seconds(60, baselineLatency, latencyWindow(100, 100)),
			trigger: LatencyRatio},

		{name: "memory above limit twice holds", obs: []Observation{
			{At: at(1), Baseline: quiet, CanaryInstances: memory(2<<30, 1<<30)},
			{At: at(2), Baseline: quiet, CanaryInstances: memory(2<<30, 1<<30)},
		}, trigger: Memory},
		{name: "memory spike interrupted holds", obs: []Observation{
			{At: at(1), Baseline: quiet, CanaryInstances: memory(2<<30, 1<<30)},
			{At: at(2), Baseline: quiet, CanaryInstances: memory(2<<30, 1<<30)},
			{At: at(3), Baseline: quiet, CanaryInstances: memory(1<<30, 1<<30)},
			{At: at(4), Baseline: quiet, CanaryInstances: memory(2<<30, 1<<30)},
		}, trigger: Memory},
		{name: "memory above limit three times fires", obs: []Observation{
			{At: at(1), Baseline: quiet, CanaryInstances: memory(2<<30, 1<<30)},
			{At: at(2), Baseline: quiet, CanaryInstances: memory(2<<30, 1<<30)},
			{At: at(3), Baseline: quiet, CanaryInstances: memory(3<<29, 1<<30)},
		}, trigger: Memory, fire: true, observed: 3 << 29, limit: 1 << 30, message: "canary memory 1.5GiB above its limit 1.0GiB for 3 consecutive observations"},
		{name: "memory without limit holds", obs: []Observation{
			{At: at(1), Baseline: quiet, CanaryInstances: memory(2<<30, 0)},
			{At: at(2), Baseline: quiet, CanaryInstances: memory(2<<30, 0)},
			{At: at(3), Baseline: quiet, CanaryInstances: memory(2<<30, 0)},
		}, trigger: Memory},
		{name: "cpu above limit once fires with resourceFor 1", tweak: func(c *Config) { c.ResourceFor = 1 },
			obs:     []Observation{{At: at(1), Baseline: quiet, CanaryInstances: cpu(1200, 1000)}},
			trigger: CPU, fire: true, observed: 1200, limit: 1000, message: "canary CPU 1200m above its limit 1000m"},
		{name: "cpu at limit holds", tweak: func(c *Config) { c.ResourceFor = 1 },
			obs:     []Observation{{At: at(1), Baseline: quiet, CanaryInstances: cpu(1000, 1000)}},
			trigger: CPU},

		{name: "dependency failure fires", obs: []Observation{
			{At: at(1), Baseline: quiet, CanaryInstances: Instances{Total: 2, DependencyFailures: []string{"database"}}},
		}, trigger: Dependency, fire: true, observed: 1, limit: 0, message: "failing dependencies the baseline does not: database"},
		{name: "dependency failure once holds with dependencyFor 2", tweak: func(c *Config) { c.DependencyFor = 2 }, obs: []Observation{
			{At: at(1), Baseline: quiet, CanaryInstances: Instances{Total: 2, DependencyFailures: []string{"database"}}},
			{At: at(2), Baseline: quiet, CanaryInstances: Instances{Total: 2}},
		}, trigger: Dependency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Disabled = tt.disabled
			if tt.tweak != nil {
				tt.tweak(&cfg)
			}
			a, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var v Verdict
			for _, o := range tt.obs {
				v = a.Observe(o)
			}
			r, ok := v.Reason(tt.trigger)
			if ok != tt.fire || (v.Action == Rollback) != tt.fire {
				t.Fatalf("verdict %q: %v fired = %v, want %v", v, tt.trigger, ok, tt.fire)
			}
			if !tt.fire {
				return
			}
			if !r.Fired || !near(r.Observed, tt.observed) || !near(r.Threshold, tt.limit) {
				t.Errorf("reason = %+v, want fired, observed %v, threshold %v", r, tt.observed, tt.limit)
			}
			if !strings.Contains(r.Message, tt.message) {
				t.Errorf("message = %q, want it to contain %q", r.Message, tt.message)
			}
		})
	}
}

// seconds is n observations a second apart, each with the same baseline
// and canary intervals.
func seconds(n int, baseline, canary Window) []Observation {
	out := make([]Observation, n)
	for i := range out {
		out[i] = Observation{At: at(i + 1), Baseline: baseline, Canary: canary}
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
