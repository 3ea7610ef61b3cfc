package export

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Level is the prefix of the recorded series' names: the labels they keep
// (Prometheus's level:metric:operations naming).
const Level = "app_env_revision_version"

// by is the grouping of every recorded series.
const by = "app, env, revision, version"

// Recorded series, by name (each prefixed with Level and ':').
const (
	RecordRequestRate = Level + ":gantry_requests:rate5m"
	RecordErrorRate   = Level + ":gantry_requests_5xx:rate5m"
	RecordErrorRatio  = Level + ":gantry_requests_5xx:ratio_rate5m"
	RecordLatencyP50  = Level + ":gantry_request_duration_seconds:p50_rate5m"
	RecordLatencyP95  = Level + ":gantry_request_duration_seconds:p95_rate5m"
	RecordLatencyP99  = Level + ":gantry_request_duration_seconds:p99_rate5m"
	RecordInFlight    = Level + ":gantry_requests_in_flight:sum"
)

type ruleFile struct {
	Groups []ruleGroup `yaml:"groups"`
}

type ruleGroup struct {
	Name  string `yaml:"name"`
	Rules []rule `yaml:"rules"`
}

type rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// Rules returns a Prometheus rule file (the format of rule_files, which
// gantry server --alert-rules also loads) for the target: one group of
// recording rules per version (request and 5xx rates, the 5xx share,
// latency quantiles, in-flight requests) and one group of alerts, the
// deployment plan's HighErrorRate (5xx above 0.05/s for 5m) and
// HighResponseTime (p95 above 2s for 10m) on gantry's metric names, plus
// HighErrorShare (5xx above 5% of requests for 5m).
func Rules(t Target) ([]byte, error) {
	if err := t.Check(); err != nil {
		return nil, err
	}
	sel := t.matchers()
	rate := func(extra ...string) string {
		return fmt.Sprintf("sum by (%s) (rate(gantry_requests_total%s[5m]))", by, selector(sel, extra...))
	}
	quantile := func(q string) string {
		return fmt.Sprintf("histogram_quantile(%s, sum by (%s, le) (rate(gantry_request_duration_seconds_bucket%s[5m])))", q, by, selector(sel))
	}
	only := selector(sel) // the recorded series keep app and env: scope the alerts as well
	where := "{{ $labels.app }}/{{ $labels.env }} version {{ $labels.version }} (revision {{ $labels.revision }})"
	f := ruleFile{Groups: []ruleGroup{
		{Name: t.Name() + "-recording", Rules: []rule{
			{Record: RecordRequestRate, Expr: rate()},
			{Record: RecordErrorRate, Expr: rate(`code_class="5xx"`)},
			{Record: RecordErrorRatio, Expr: RecordErrorRate + only + " / " + RecordRequestRate + only},
			{Record: RecordLatencyP50, Expr: quantile("0.5")},
			{Record: RecordLatencyP95, Expr: quantile("0.95")},
			{Record: RecordLatencyP99, Expr: quantile("0.99")},
			{Record: RecordInFlight, Expr: fmt.Sprintf("sum by (%s) (gantry_requests_in_flight%s)", by, selector(sel))},
		}},
		{Name: t.Name() + "-alerts", Rules: []rule{
			{Alert: "HighErrorRate", Expr: RecordErrorRate + only + " > 0.05", For: "5m",
				Labels: map[string]string{"severity": "critical"},
				Annotations: map[string]string{"summary": "High error rate detected",
					"description": where + " answers {{ $value | humanize }} 5xx responses per second (over 0.05/s for 5m)."}},
			{Alert: "HighResponseTime", Expr: RecordLatencyP95 + only + " > 2", For: "10m",
				Labels: map[string]string{"severity": "warning"},
				Annotations: map[string]string{"summary": "95th percentile response time > 2s",
					"description": where + " has a p95 latency of {{ $value | humanizeDuration }} (over 2s for 10m)."}},
			{Alert: "HighErrorShare", Expr: RecordErrorRatio + only + " > 0.05", For: "5m",
				Labels: map[string]string{"severity": "critical"},
				Annotations: map[string]string{"summary": "Over 5% of requests fail",
					"description": where + " answers {{ $value | humanizePercentage }} of requests with 5xx (over 5% for 5m)."}},
		}},
	}}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Prometheus rules for %s, written by gantry monitoring export.\n", t.Name())
	fmt.Fprintf(&buf, "# Load with rule_files in prometheus.yml, or gantry server --alert-rules.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encode rules: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode rules: %w", err)
	}
	return buf.Bytes(), nil
}
