package alerting

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
)

// TestSelection_planRules: the plan's rules read the built-in recording
// rules' outputs, so the history keeps those and the per-revision
// counters and latency buckets they are recorded from, and nothing else
// (not the per-route series, not the instances' own metrics), until a
// check's query names one.
func TestSelection_planRules(t *testing.T) {
	rules, err := LoadRuleFiles(nil, planRules)
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := ParseRules(nil, "builtin.rules.yml", builtinRules)
	if err != nil {
		t.Fatal(err)
	}
	all := append(builtin, rules...)
	check := `sum(rate(bmad_validations_total{app="web",revision="2"}[5m]))`
	for _, c := range []struct {
		name   string
		extra  []string
		series labels.Labels
		keep   bool
	}{
		{"counter", nil, labels.FromStrings("__name__", "gantry_requests_total", "app", "web", "code_class", "5xx"), true},
		{"bucket", nil, labels.FromStrings("__name__", "gantry_request_duration_seconds_bucket", "app", "web", "le", "0.1"), true},
		{"recorded", nil, labels.FromStrings("__name__", "http_requests_total", "status", "5xx"), true},
		{"recorded, not 5xx", nil, labels.FromStrings("__name__", "http_requests_total", "status", "2xx"), false},
		{"quantile", nil, labels.FromStrings("__name__", "http_request_duration_seconds", "quantile", "0.95"), true},
		{"route", nil, labels.FromStrings("__name__", "gantry_route_requests_total", "app", "web"), false},
		{"instance metric", nil, labels.FromStrings("__name__", "bmad_validations_total", "app", "web", "revision", "2"), false},
		{"checked instance metric", []string{check}, labels.FromStrings("__name__", "bmad_validations_total", "app", "web", "revision", "2"), true},
		{"checked, other revision", []string{check}, labels.FromStrings("__name__", "bmad_validations_total", "app", "web", "revision", "1"), false},
		{"regex name", []string{`{__name__=~"bmad_.*"}`}, labels.FromStrings("__name__", "bmad_agent_interactions_total"), true},
	} {
		sel, err := selectionFor(all, c.extra)
		if err != nil {
			t.Fatal(err)
		}
		if got := sel.Keeps(c.series); got != c.keep {
			t.Errorf("%s: Keeps(%s) = %v, want %v", c.name, c.series, got, c.keep)
		}
	}
	// Without alerting rules or queries, the recording rules read nothing.
	if sel, _ := selectionFor(builtin, nil); !sel.Empty() {
		names, others := sel.Names()
		t.Errorf("the built-in rules alone select %v (+%d)", names, others)
	}
	if _, err := selectionFor(builtin, []string{"sum(rate(x[5m])"}); err == nil {
		t.Error("a query that is not PromQL was accepted")
	}
}

// TestHistory_cap: at the cap new series are refused and counted, Full
// says so, and once the series expire it clears.
func TestHistory_cap(t *testing.T) {
	h := NewHistory(time.Minute, 2)
	now := time.Unix(1_800_000_000, 0)
	batch := []Sample{
		{Labels: labels.FromStrings("__name__", "a")},
		{Labels: labels.FromStrings("__name__", "b")},
		{Labels: labels.FromStrings("__name__", "c")},
	}
	h.Add(now, batch)
	st := h.Stats()
	if st.Series != 2 || st.Dropped != 1 || !st.Full || !st.FullSince.Equal(now) {
		t.Fatalf("after 3 series at a cap of 2: %+v", st)
	}
	// One sample (16 bytes) and one label each, and the series' overhead.
	if lo, hi := int64(2*(16+seriesOverhead)), int64(2*(16+seriesOverhead+32)); st.Bytes < lo || st.Bytes > hi {
		t.Errorf("memory estimate %d bytes for 2 series of 1 sample; want %d to %d", st.Bytes, lo, hi)
	}
	h.Add(now.Add(2*time.Minute), batch[:1])
	if st = h.Stats(); st.Series != 1 || st.Full || st.Samples != 1 {
		t.Fatalf("after b and c expired: %+v", st)
	}
	h.SetSelection(&Selection{byName: map[string][][]*labels.Matcher{}})
	if st = h.Stats(); st.Series != 0 {
		t.Fatalf("an empty selection kept %+v", st)
	}
}

// TestEvaluator_selection: the evaluator's history keeps what its rules
// and queries read; SetQueries changes it, and Query sees the series
// once kept.
func TestEvaluator_selection(t *testing.T) {
	rules, err := LoadRuleFiles(nil, planRules)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gantry_requests_total"}, []string{"app", "code_class"})
	biz := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bmad_validations_total"}, []string{"app", "revision"})
	reg.MustRegister(reqs, biz)
	reqs.WithLabelValues("web", "2xx").Add(1)
	biz.WithLabelValues("web", "1").Add(1)
	biz.WithLabelValues("web", "2").Add(1)
	ev, err := New(Options{Rules: rules, Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, now := context.Background(), time.Unix(1_800_000_000, 0)
	ev.Step(ctx, now)
	q := `bmad_validations_total{revision="2"}`
	if v, err := ev.Query(ctx, q, now); err != nil || len(v) != 0 {
		t.Fatalf("before SetQueries, %s = %v, %v: want no data", q, v, err)
	}
	if v, _ := ev.Query(ctx, "gantry_requests_total", now); len(v) != 1 {
		t.Fatalf("the plan's rules' input: %v", v)
	}
	if err := ev.SetQueries([]string{q}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(15 * time.Second)
	ev.Step(ctx, now)
	if v, err := ev.Query(ctx, `{__name__="bmad_validations_total"}`, now); err != nil || len(v) != 1 || v[0].Metric.Get("revision") != "2" {
		t.Fatalf("after SetQueries(%s): %v, %v", q, v, err)
	}
	if err := ev.SetQueries(nil); err != nil {
		t.Fatal(err)
	}
	if v, _ := ev.Query(ctx, q, now); len(v) != 0 {
		t.Fatalf("after SetQueries(nil), %s is still kept: %v", q, v)
	}
}

// TestEvaluator_warnsAtTheCap: when the history's cap starts refusing
// series the evaluator warns once, naming the cap and the flag, and once
// more when there is room again.
func TestEvaluator_warnsAtTheCap(t *testing.T) {
	reg := prometheus.NewRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gantry_requests_total"}, []string{"app"})
	reg.MustRegister(reqs)
	reqs.WithLabelValues("a").Add(1)
	reqs.WithLabelValues("b").Add(1)
	var logs []string
	ev, err := New(Options{Gatherer: reg, History: NewHistory(time.Minute, 1), Queries: []string{"gantry_requests_total"},
		Logf: func(format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, now := context.Background(), time.Unix(1_800_000_000, 0)
	for range 3 {
		now = now.Add(15 * time.Second)
		ev.Step(ctx, now)
	}
	if len(logs) != 1 || !strings.Contains(logs[0], "cap of 1 series (--alert-history-max-series)") {
		t.Fatalf("logs at the cap: %q", logs)
	}
	if st := ev.History().Stats(); !st.Full || st.Dropped != 3 || st.Series != 1 {
		t.Fatalf("history at the cap: %+v", st)
	}
	reqs.Reset() // both series go; once the kept one expires there is room
	now = now.Add(2 * time.Minute)
	ev.Step(ctx, now)
	if len(logs) != 2 || !strings.Contains(logs[1], "below its cap") {
		t.Fatalf("logs once there is room: %q", logs)
	}
}
