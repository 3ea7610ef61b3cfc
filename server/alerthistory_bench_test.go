package server

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/alerting"
)

// historySamples is 30 minutes (the history's retention) at the default
// 15s interval: the samples every kept series holds in steady state.
const historySamples = 120

// BenchmarkAlertHistory_100apps3revisions20routes fills the alerting
// history from scrapeFixture (100 apps x 3 revisions x 20 routes) for
// its whole retention and reports the heap it keeps and its series:
// every-series is what it kept before it was bounded to what rules read
// (every series gantry exposes); plan-rules is the evaluator of the
// deployment plan's two rules, which keeps what they and the built-in
// recording rules they read select; plan-rules+check adds a
// business-metric check's query. cpu-ms/step is one evaluation (gather,
// keep, evaluate the rules).
func BenchmarkAlertHistory_100apps3revisions20routes(b *testing.B) {
	reg := scrapeFixture()
	rules, err := alerting.LoadRuleFiles(nil, "../examples/alerts/plan.rules.yml")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		rules   []alerting.Rule
		queries []string
		all     bool
	}{
		{"every-series", nil, nil, true},
		{"plan-rules", rules, nil, false},
		{"plan-rules+check", rules, []string{`sum(rate(gantry_route_requests_total{app="app007",env="prod",revision="2",code_class="5xx"}[5m]))`}, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			if _, err := alerting.Gather(reg); err != nil { // the registry's own lasting allocations
				b.Fatal(err)
			}
			for b.Loop() {
				var heap [2]runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&heap[0])
				h := alerting.NewHistory(0, 1_000_000)
				ev, err := alerting.New(alerting.Options{Rules: c.rules, Gatherer: reg, History: h, Queries: c.queries})
				if err != nil {
					b.Fatal(err)
				}
				if c.all {
					h.SetSelection(nil) // as before: every series
				}
				now, cpu := time.Unix(1_800_000_000, 0), cpuTime()
				for range historySamples {
					now = now.Add(alerting.DefaultInterval)
					ev.Step(context.Background(), now)
				}
				b.ReportMetric(float64(cpuTime()-cpu)/historySamples/1e6, "cpu-ms/step")
				runtime.GC()
				runtime.ReadMemStats(&heap[1])
				st := h.Stats()
				b.ReportMetric(float64(int64(heap[1].HeapAlloc)-int64(heap[0].HeapAlloc))/1e6, "kept-MB")
				b.ReportMetric(float64(st.Series), "series")
				for _, r := range ev.Rules() {
					if r.LastError != "" {
						b.Fatalf("rule %s: %s", r.Name(), r.LastError)
					}
				}
				runtime.KeepAlive(ev)
			}
		})
	}
}
