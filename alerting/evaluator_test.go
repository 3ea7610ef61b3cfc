package alerting

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestEvaluator_planErrorRule drives the plan's HighErrorRate rule over a
// registry shaped like gantry's, 30 seconds of virtual time per step:
// pending, firing after its 5m, resolved once errors stop.
func TestEvaluator_planErrorRule(t *testing.T) {
	rules, err := LoadRuleFiles(nil, planRules)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gantry_requests_total"}, []string{"app", "env", "revision", "version", "code_class"})
	reg.MustRegister(reqs)
	var states []State
	ev, err := New(Options{Rules: rules, Gatherer: reg, Observe: func(_ time.Time, _ []Alert, tr []Transition) {
		for _, x := range tr {
			states = append(states, x.To)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	step := func(n int, errs float64) {
		for range n {
			reqs.WithLabelValues("web", "prod", "2", "v2", "2xx").Add(90)
			reqs.WithLabelValues("web", "prod", "2", "v2", "5xx").Add(errs)
			now = now.Add(30 * time.Second)
			ev.Step(context.Background(), now)
		}
	}
	step(3, 10) // 10 errors per 30 s: 0.33/s > 0.05
	if a := ev.Alerts(); len(a) != 1 || a[0].State != Pending || a[0].Labels["status"] != "5xx" || a[0].Labels["version"] != "v2" {
		t.Fatalf("after 90s: %+v", a)
	}
	step(10, 10)
	if a := ev.Alerts(); len(a) != 1 || a[0].State != Firing || a[0].Annotations["summary"] != "High error rate detected" {
		t.Fatalf("after 6m: %+v", a)
	}
	step(12, 0)
	if a := ev.Alerts(); len(a) != 1 || a[0].State != Resolved {
		t.Fatalf("after errors stopped for 6m: %+v", a)
	}
	if len(states) != 3 || states[0] != Pending || states[1] != Firing || states[2] != Resolved {
		t.Fatalf("transitions %v", states)
	}
	for _, h := range ev.Rules() {
		if h.LastError != "" {
			t.Errorf("rule %s: %s", h.Name(), h.LastError)
		}
	}
}
