package export

import (
	"encoding/json"
	"fmt"
)

// RateInterval is the range of the dashboard's rate() calls: Grafana's
// $__rate_interval (at least four scrape intervals).
const RateInterval = "$__rate_interval"

// Panel is one graph of the dashboard and its PromQL queries.
type Panel struct {
	Title string
	// Unit is Grafana's unit id (reqps, percentunit, s, short).
	Unit    string
	Targets []Query
}

// Query is one PromQL expression of a panel or an annotation, with the
// legend Grafana draws for each of its series.
type Query struct {
	Expr   string
	Legend string
}

// Annotation is a PromQL query Grafana marks on every panel's time axis:
// a region wherever the query returns a series.
type Annotation struct {
	Name  string
	Query Query
	// Color is the marks' colour; TagKeys are the labels shown as tags.
	Color   string
	TagKeys string
}

// Panels returns the dashboard's graphs for the target. Expressions may
// hold Grafana's variables: $__rate_interval, and $env without an
// environment in t.
func Panels(t Target) []Panel {
	sel := t.matchers()
	if t.Env == "" {
		sel += `,env="$env"`
	}
	rate := func(extra ...string) string {
		return fmt.Sprintf("sum by (version) (rate(gantry_requests_total%s[%s]))", selector(sel, extra...), RateInterval)
	}
	quantile := func(q, name string) Query {
		return Query{Expr: fmt.Sprintf("histogram_quantile(%s, sum by (version, le) (rate(gantry_request_duration_seconds_bucket%s[%s])))", q, selector(sel), RateInterval),
			Legend: name + " {{version}}"}
	}
	return []Panel{
		{Title: "Request rate per version", Unit: "reqps", Targets: []Query{{Expr: rate(), Legend: "{{version}}"}}},
		{Title: "5xx share per version", Unit: "percentunit", Targets: []Query{{Expr: rate(`code_class="5xx"`) + " / " + rate(), Legend: "{{version}}"}}},
		{Title: "Latency per version (p50, p95, p99)", Unit: "s", Targets: []Query{quantile("0.5", "p50"), quantile("0.95", "p95"), quantile("0.99", "p99")}},
		{Title: "Requests in flight per version", Unit: "short", Targets: []Query{{Expr: fmt.Sprintf("sum by (version) (gantry_requests_in_flight%s)", selector(sel)), Legend: "{{version}}"}}},
		{Title: "Responses by status class", Unit: "reqps", Targets: []Query{{Expr: fmt.Sprintf("sum by (code_class) (rate(gantry_requests_total%s[%s]))", selector(sel), RateInterval), Legend: "{{code_class}}"}}},
		{Title: "Ready instances per version", Unit: "short", Targets: []Query{{Expr: fmt.Sprintf("sum by (version) (gantry_instance_ready%s)", selector(sel)), Legend: "{{version}}"}}},
		{Title: "CPU per version", Unit: "short", Targets: []Query{{Expr: fmt.Sprintf("sum by (version) (gantry_instance_cpu_cores%s)", selector(sel)), Legend: "{{version}} cores"}}},
		{Title: "Memory per version", Unit: "bytes", Targets: []Query{{Expr: fmt.Sprintf("sum by (version) (gantry_instance_memory_bytes%s)", selector(sel)), Legend: "{{version}}"}}},
	}
}

// Annotations returns the dashboard's rollout marks: a region while a
// rollout is in progress (gantry_rollouts, tagged with its phase), and a
// mark when a version starts serving (its series appear).
func Annotations(t Target) []Annotation {
	sel := t.matchers()
	if t.Env == "" {
		sel += `,env="$env"`
	}
	return []Annotation{
		{Name: "Rollouts", Color: "rgba(255, 152, 48, 0.4)", TagKeys: "phase",
			Query: Query{Expr: fmt.Sprintf("sum by (env, phase) (gantry_rollouts%s) > 0", selector(sel)), Legend: "rollout {{phase}}"}},
		{Name: "New version", Color: "rgba(138, 184, 255, 1)", TagKeys: "version",
			Query: Query{Expr: fmt.Sprintf("count by (version) (gantry_requests_in_flight%[1]s) unless count by (version) (gantry_requests_in_flight%[1]s offset 2m)", selector(sel)),
				Legend: "version {{version}} serving"}},
	}
}

// Dashboard returns a Grafana dashboard (JSON model, importable through
// Grafana's UI or API) of the target's Panels and Annotations over a
// Prometheus data source chosen by the $datasource variable.
func Dashboard(t Target) ([]byte, error) {
	if err := t.Check(); err != nil {
		return nil, err
	}
	ds := map[string]any{"type": "prometheus", "uid": "${datasource}"}
	var panels []any
	for i, p := range Panels(t) {
		var targets []any
		for j, q := range p.Targets {
			targets = append(targets, map[string]any{"datasource": ds, "expr": q.Expr, "legendFormat": q.Legend,
				"refId": string(rune('A' + j)), "range": true})
		}
		panels = append(panels, map[string]any{
			"id": i + 1, "type": "timeseries", "title": p.Title, "datasource": ds, "targets": targets,
			"gridPos":     map[string]int{"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i / 2) * 8},
			"fieldConfig": map[string]any{"defaults": map[string]any{"unit": p.Unit}, "overrides": []any{}},
			"options":     map[string]any{"legend": map[string]any{"displayMode": "table", "placement": "bottom", "calcs": []string{"lastNotNull", "max"}}},
		})
	}
	annotations := []any{map[string]any{"builtIn": 1, "datasource": map[string]string{"type": "grafana", "uid": "-- Grafana --"},
		"enable": true, "hide": true, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"}}
	for _, a := range Annotations(t) {
		annotations = append(annotations, map[string]any{"datasource": ds, "enable": true, "name": a.Name, "iconColor": a.Color,
			"expr": a.Query.Expr, "titleFormat": a.Query.Legend, "tagKeys": a.TagKeys, "step": "30s", "useValueForTime": false})
	}
	vars := []any{map[string]any{"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus"}}
	if t.Env == "" {
		q := fmt.Sprintf("label_values(gantry_requests_total{app=%q}, env)", t.App)
		vars = append(vars, map[string]any{"name": "env", "label": "Environment", "type": "query", "datasource": ds,
			"query": map[string]string{"query": q, "refId": "env"}, "definition": q, "refresh": 2, "sort": 1})
	}
	title := "gantry: " + t.App
	if t.Env != "" {
		title += " (" + t.Env + ")"
	}
	uid := t.Name()
	if len(uid) > 40 { // Grafana's limit
		uid = uid[:40]
	}
	d := map[string]any{
		"title": title, "uid": uid, "tags": []string{"gantry", t.App}, "editable": true,
		"schemaVersion": 39, "refresh": "30s", "time": map[string]string{"from": "now-3h", "to": "now"},
		"annotations": map[string]any{"list": annotations},
		"templating":  map[string]any{"list": vars},
		"panels":      panels,
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode dashboard: %w", err)
	}
	return append(b, '\n'), nil
}
