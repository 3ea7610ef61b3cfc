// Package promsource reads the analysis' per-revision counts from an
// external Prometheus: rollout.MetricSource over PromQL, so the engine's
// rollback triggers and sequential tests run unchanged on metrics that a
// team's Prometheus scrapes from the instances themselves.
package promsource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gantry-dev/gantry/rollout"
)

// Queries are PromQL templates; {{.App}} and {{.Env}} are replaced by the
// app and environment (quoted for a label matcher). Each must return one
// series per revision, labelled with Options.RevisionLabel; Latency one per
// revision and le. Values are cumulative counters.
type Queries struct {
	// Requests counts finished requests per revision.
	Requests string
	// Errors counts 5xx answers per revision.
	Errors string
	// Latency is the cumulative latency histogram per revision and le.
	Latency string
}

// DefaultQueries read the conventional client_golang names, on series
// labelled app, env and revision (as target labels of the scrape).
var DefaultQueries = Queries{
	Requests: `sum by (revision) (http_requests_total{app="{{.App}}",env="{{.Env}}"})`,
	Errors:   `sum by (revision) (http_requests_total{app="{{.App}}",env="{{.Env}}",status=~"5.."})`,
	Latency:  `sum by (revision, le) (http_request_duration_seconds_bucket{app="{{.App}}",env="{{.Env}}"})`,
}

// Options configure a Source.
type Options struct {
	// URL is Prometheus's base URL, such as http://prometheus:9090; required.
	URL string
	// Queries; zero fields take DefaultQueries'.
	Queries Queries
	// RevisionLabel is the label holding gantry's revision number; empty: "revision".
	RevisionLabel string
	// Timeout bounds one read (three queries); 0: 5s.
	Timeout time.Duration
	// Client makes the requests; nil: http.DefaultClient.
	Client *http.Client
	// Logf receives query errors (the read then reports nothing); nil: silent.
	Logf func(format string, args ...any)
}

// Source implements rollout.MetricSource with PromQL instant queries.
type Source struct {
	opts                      Options
	requests, errors, latency *template.Template
}

var _ rollout.MetricSource = (*Source)(nil)

// New checks the options: the URL, and that every query is a template
// that yields valid PromQL.
func New(opts Options) (*Source, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus source: URL %q: give Prometheus's base URL, such as http://127.0.0.1:9090", opts.URL)
	}
	opts.URL = strings.TrimSuffix(opts.URL, "/")
	if opts.Queries.Requests == "" {
		opts.Queries.Requests = DefaultQueries.Requests
	}
	if opts.Queries.Errors == "" {
		opts.Queries.Errors = DefaultQueries.Errors
	}
	if opts.Queries.Latency == "" {
		opts.Queries.Latency = DefaultQueries.Latency
	}
	if opts.RevisionLabel == "" {
		opts.RevisionLabel = "revision"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.Client == nil {
		opts.Client = http.DefaultClient
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	s := &Source{opts: opts}
	var errs []error
	for _, q := range []struct {
		name string
		text string
		dst  **template.Template
	}{{"requests", opts.Queries.Requests, &s.requests}, {"errors", opts.Queries.Errors, &s.errors}, {"latency", opts.Queries.Latency, &s.latency}} {
		t, err := template.New(q.name).Option("missingkey=error").Parse(q.text)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s query: %w", q.name, err))
			continue
		}
		*q.dst = t
		expr, err := render(t, "app", "env")
		if err == nil {
			_, err = parser.NewParser(parser.Options{}).ParseExpr(expr)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s query %q: %w", q.name, q.text, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("prometheus source: %w", err)
	}
	return s, nil
}

// render fills a query template; values are escaped for a quoted matcher.
func render(t *template.Template, app, env string) (string, error) {
	esc := func(s string) string { q := strconv.Quote(s); return q[1 : len(q)-1] }
	var b bytes.Buffer
	err := t.Execute(&b, struct{ App, Env string }{esc(app), esc(env)})
	return b.String(), err
}

// RevisionMetrics implements rollout.MetricSource. A failed read is logged
// and reports nothing (the analysis then waits for data).
func (s *Source) RevisionMetrics(app, env string) map[int]rollout.RevisionMetrics {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	out, err := s.Read(ctx, app, env)
	if err != nil {
		s.opts.Logf("prometheus source %s: %s/%s: %v", s.opts.URL, app, env, err)
		return nil
	}
	return out
}

// Read queries the counts of every revision of an app environment.
func (s *Source) Read(ctx context.Context, app, env string) (map[int]rollout.RevisionMetrics, error) {
	reqs, err := s.query(ctx, s.requests, app, env)
	if err != nil {
		return nil, err
	}
	errs, err := s.query(ctx, s.errors, app, env)
	if err != nil {
		return nil, err
	}
	lat, err := s.query(ctx, s.latency, app, env)
	if err != nil {
		return nil, err
	}
	out := map[int]rollout.RevisionMetrics{}
	for _, smp := range reqs {
		if rev, ok := s.revision(smp.Metric); ok {
			m := out[rev]
			m.Requests = count(smp.Value)
			out[rev] = m
		}
	}
	for _, smp := range errs {
		if rev, ok := s.revision(smp.Metric); ok {
			if m, seen := out[rev]; seen {
				m.Errors = count(smp.Value)
				out[rev] = m
			}
		}
	}
	bounds, byRev := buckets(lat, s.revision)
	for rev, m := range out {
		m.LatencyBounds = bounds
		m.LatencyCounts = byRev[rev]
		if m.LatencyCounts == nil {
			m.LatencyCounts = make([]uint64, len(bounds))
		}
		out[rev] = m
	}
	return out, nil
}

func (s *Source) revision(l map[string]string) (int, bool) {
	n, err := strconv.Atoi(l[s.opts.RevisionLabel])
	return n, err == nil && n > 0
}

// buckets turns cumulative-by-le histogram series into shared bounds and
// per-revision counts per bucket (not cumulative across buckets).
func buckets(vec []sample, revOf func(map[string]string) (int, bool)) ([]time.Duration, map[int][]uint64) {
	les := map[float64]bool{}
	for _, smp := range vec {
		if le, err := strconv.ParseFloat(smp.Metric["le"], 64); err == nil {
			les[le] = true
		}
	}
	var sorted []float64
	for le := range les {
		sorted = append(sorted, le)
	}
	slices.Sort(sorted)
	bounds := make([]time.Duration, len(sorted))
	index := map[float64]int{}
	for i, le := range sorted {
		index[le] = i
		if math.IsInf(le, 1) || le*float64(time.Second) > math.MaxInt64 {
			bounds[i] = time.Duration(math.MaxInt64)
		} else {
			bounds[i] = time.Duration(le * float64(time.Second))
		}
	}
	cum := map[int][]uint64{}
	for _, smp := range vec {
		rev, ok := revOf(smp.Metric)
		le, err := strconv.ParseFloat(smp.Metric["le"], 64)
		if !ok || err != nil {
			continue
		}
		if cum[rev] == nil {
			cum[rev] = make([]uint64, len(sorted))
		}
		cum[rev][index[le]] = count(smp.Value)
	}
	out := map[int][]uint64{}
	for rev, c := range cum {
		per := make([]uint64, len(c))
		var prev uint64
		for i, v := range c {
			v = max(v, prev) // cumulative by le; a missing bucket repeats the previous one
			per[i] = v - prev
			prev = v
		}
		out[rev] = per
	}
	return bounds, out
}

func count(v float64) uint64 {
	if v < 0 || math.IsNaN(v) {
		return 0
	}
	return uint64(math.Round(v))
}

type sample struct {
	Metric map[string]string
	Value  float64
}

// query runs an instant query of template t through Prometheus's HTTP API.
func (s *Source) query(ctx context.Context, t *template.Template, app, env string) ([]sample, error) {
	expr, err := render(t, app, env)
	if err != nil {
		return nil, err
	}
	return s.instant(ctx, expr, false)
}

// InstantQuery evaluates expr now and returns the value of each series
// it returns (a scalar is one value); the user-defined checks of
// spec.analysis.checks read Prometheus through it.
func (s *Source) InstantQuery(ctx context.Context, expr string) ([]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	vec, err := s.instant(ctx, expr, true)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(vec))
	for i, x := range vec {
		out[i] = x.Value
	}
	return out, nil
}

// instant runs an instant query; scalar says whether a scalar answer is
// accepted (as one sample without labels).
func (s *Source) instant(ctx context.Context, expr string, scalar bool) ([]sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.opts.URL+"/api/v1/query?query="+url.QueryEscape(expr), nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", expr, err)
	}
	defer resp.Body.Close()
	var r struct {
		Status    string `json:"status"`
		Error     string `json:"error"`
		ErrorType string `json:"errorType"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("query %s: %s: %w", expr, resp.Status, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %s: %s: %s", expr, r.ErrorType, r.Error)
	}
	if r.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: returns a %s, want an instant vector per revision", expr, r.Data.ResultType)
	}
	var vec []struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	if err := json.Unmarshal(r.Data.Result, &vec); err != nil {
		return nil, fmt.Errorf("query %s: %w", expr, err)
	}
	out := make([]sample, 0, len(vec))
	for _, x := range vec {
		v, err := parseValue(expr, x.Value[1])
		if err != nil {
			return nil, err
		}
		out = append(out, sample{Metric: x.Metric, Value: v})
	}
	return out, nil
}

// parseValue reads a sample value of Prometheus's JSON (a string).
func parseValue(expr string, x any) (float64, error) {
	str, _ := x.(string)
	v, err := strconv.ParseFloat(str, 64)
	if err != nil {
		return 0, fmt.Errorf("query %s: value %v: %w", expr, x, err)
	}
	return v, nil
}
