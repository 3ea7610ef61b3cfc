package alerting

import (
	"context"
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/template"
)

// DefaultInterval is how often an Evaluator samples gantry's metrics and
// evaluates the rules, as Prometheus's default evaluation_interval... and
// a common scrape interval.
const DefaultInterval = 15 * time.Second

// builtinRules are recording rules evaluated before the user's: they give
// gantry's metrics the conventional names the plan's rules use.
//
//go:embed builtin.rules.yml
var builtinRules []byte

// Options configure an Evaluator.
type Options struct {
	// Rules are the user's rules (from LoadRuleFiles), evaluated in order
	// after the built-in recording rules.
	Rules []Rule
	// Gatherer is sampled at every evaluation into the History; required.
	Gatherer prometheus.Gatherer
	// Interval is the period of Run; 0: DefaultInterval.
	Interval time.Duration
	// History keeps the samples; nil: NewHistory(0, 0).
	History *History
	// Observe is called after every evaluation with every alert (pending,
	// firing, resolved) and the transitions of that evaluation; nil: none.
	// It runs on the evaluating goroutine: it must not block.
	Observe func(now time.Time, alerts []Alert, tr []Transition)
	// Logf receives evaluation errors; nil: silent.
	Logf func(format string, args ...any)
	// Now stamps Run's evaluations; nil: the ticker's time. Tests use it
	// to run rules with minutes-long ranges and `for` in seconds.
	Now func() time.Time
	// Queries are PromQL expressions read from the History besides the
	// rules (see SetQueries); nil: none.
	Queries []string
}

// Evaluator evaluates alerting and recording rules with Prometheus's
// PromQL engine over a History of gantry's own metrics.
type Evaluator struct {
	opts   Options
	rules  []Rule
	engine *promql.Engine

	mu      sync.Mutex
	alerts  []map[uint64]Alert // per rule, by alert key
	health  []RuleHealth       // per rule
	queries []string           // of SetQueries
	full    bool               // the History's cap was reached (warned)
}

// RuleHealth is a rule's last evaluation.
type RuleHealth struct {
	Rule
	// LastEval is when it was last evaluated; LastError its error, empty if none.
	LastEval  time.Time `json:"lastEval,omitzero"`
	LastError string    `json:"lastError,omitempty"`
}

// New returns an Evaluator of the built-in rules and opts.Rules.
func New(opts Options) (*Evaluator, error) {
	if opts.Gatherer == nil {
		return nil, fmt.Errorf("alerting: Options.Gatherer is required")
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.History == nil {
		opts.History = NewHistory(0, 0)
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	builtin, err := ParseRules(nil, "builtin.rules.yml", builtinRules)
	if err != nil {
		return nil, fmt.Errorf("alerting: built-in rules: %w", err)
	}
	rules := append(builtin, opts.Rules...)
	e := &Evaluator{opts: opts, rules: rules,
		engine: promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: 30 * time.Second, LookbackDelta: 5 * time.Minute}),
		alerts: make([]map[uint64]Alert, len(rules)), health: make([]RuleHealth, len(rules))}
	for i, r := range rules {
		e.health[i].Rule = r
	}
	if err := e.SetQueries(opts.Queries); err != nil {
		return nil, err
	}
	return e, nil
}

// SetQueries says which PromQL expressions, besides the rules, read the
// History (such as the analysis checks of the rollouts in progress), and
// bounds the History to the series that the alerting rules, those
// expressions and the recording rules they read select (by metric name
// and the label matchers the expressions spell out). Series nothing
// selects any more are forgotten; newly selected ones are kept from the
// next evaluation on. A query through Query of anything else sees no data.
func (e *Evaluator) SetQueries(exprs []string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	sel, err := selectionFor(e.rules, exprs)
	if err != nil {
		return fmt.Errorf("alerting: %w", err)
	}
	e.queries = slices.Clone(exprs)
	e.opts.History.SetSelection(sel)
	return nil
}

// Queries are the expressions of the last SetQueries.
func (e *Evaluator) Queries() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.queries)
}

// History is the samples the rules read.
func (e *Evaluator) History() *History { return e.opts.History }

// Run evaluates every Interval until ctx ends.
func (e *Evaluator) Run(ctx context.Context) {
	t := time.NewTicker(e.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if e.opts.Now != nil {
				now = e.opts.Now()
			}
			e.Step(ctx, now)
		}
	}
}

// Step samples the Gatherer into the History at now, then evaluates every
// rule in order at now: recording rules add their results to the
// History, alerting rules advance their alerts. A rule's error is kept in
// its health and logged; the other rules still run.
func (e *Evaluator) Step(ctx context.Context, now time.Time) {
	h := e.opts.History
	if sel := h.selection(); !sel.Empty() {
		samples, err := gather(e.opts.Gatherer, sel) // of the families it keeps
		if err != nil {
			e.opts.Logf("alerting: gather gantry's metrics: %v", err)
		}
		h.Add(now, samples)
	}
	var all []Transition
	for i, r := range e.rules {
		tr, err := e.evalRule(ctx, i, r, now)
		all = append(all, tr...)
		e.mu.Lock()
		e.health[i].LastEval, e.health[i].LastError = now, ""
		if err != nil {
			e.health[i].LastError = err.Error()
		}
		e.mu.Unlock()
		if err != nil {
			e.opts.Logf("alerting: rule %s at %s: %v", r.Name(), r.Where(), err)
		}
	}
	e.warnFull()
	if e.opts.Observe != nil {
		e.opts.Observe(now, e.Alerts(), all)
	}
}

// warnFull logs once when the History's series cap starts refusing
// series, and once when it has room again.
func (e *Evaluator) warnFull() {
	st := e.opts.History.Stats()
	e.mu.Lock()
	was := e.full
	e.full = st.Full
	e.mu.Unlock()
	switch {
	case st.Full && !was:
		e.opts.Logf("alerting: warning: the history keeps its cap of %d series (--alert-history-max-series): samples of further series are dropped, and rules and checks that read them see no data; narrow their selectors or raise the cap (gantry_alerting_history_dropped_samples_total counts them)", st.MaxSeries)
	case !st.Full && was:
		e.opts.Logf("alerting: the history is below its cap of %d series again (%d kept)", st.MaxSeries, st.Series)
	}
}

func (e *Evaluator) evalRule(ctx context.Context, i int, r Rule, now time.Time) ([]Transition, error) {
	vec, err := e.query(ctx, r.Expr, now)
	if err != nil {
		return nil, err
	}
	if r.Record != "" {
		out := make([]Sample, 0, len(vec))
		for _, s := range vec {
			b := labels.NewBuilder(s.Metric)
			b.Set(labels.MetricName, r.Record)
			for k, v := range r.Labels {
				b.Set(k, v)
			}
			out = append(out, Sample{Labels: b.Labels(), Value: s.F})
		}
		e.opts.History.Add(now, out)
		return nil, nil
	}
	seen := make([]Seen, 0, len(vec))
	for _, s := range vec {
		seen = append(seen, e.alertOf(ctx, r, s, now))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	next, tr := Advance(r, e.alerts[i], seen, now)
	e.alerts[i] = next
	return tr, nil
}

// alertOf builds the alert a sample of rule r's result stands for:
// the sample's labels without __name__, the rule's labels (templates
// expanded), alertname, and the expanded annotations.
func (e *Evaluator) alertOf(ctx context.Context, r Rule, s promql.Sample, now time.Time) Seen {
	base := s.Metric.Map()
	delete(base, labels.MetricName)
	expand := func(field, text string) string {
		data := template.AlertTemplateData(base, nil, "", s)
		defs := "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
		out, err := template.NewTemplateExpander(ctx, defs+text, "__alert_"+r.Alert, data, model.Time(now.UnixMilli()),
			e.templateQuery, nil, nil).Expand()
		if err != nil {
			e.opts.Logf("alerting: rule %s at %s: %s: %v", r.Alert, r.Where(), field, err)
			return text
		}
		return out
	}
	lbls := maps.Clone(base)
	for k, v := range r.Labels {
		lbls[k] = expand("label "+k, v)
	}
	lbls[model.AlertNameLabel] = r.Alert
	ann := make(map[string]string, len(r.Annotations))
	for k, v := range r.Annotations {
		ann[k] = expand("annotation "+k, v)
	}
	return Seen{Key: labels.FromMap(lbls).Hash(), Labels: lbls, Annotations: ann, Value: s.F}
}

func (e *Evaluator) templateQuery(ctx context.Context, q string, ts time.Time) (promql.Vector, error) {
	return e.query(ctx, q, ts)
}

// Query evaluates a PromQL expression over the History at ts.
func (e *Evaluator) Query(ctx context.Context, expr string, ts time.Time) (promql.Vector, error) {
	return e.query(ctx, expr, ts)
}

func (e *Evaluator) query(ctx context.Context, expr string, ts time.Time) (promql.Vector, error) {
	q, err := e.engine.NewInstantQuery(ctx, e.opts.History, promql.NewPrometheusQueryOpts(false, 0, nil), expr, ts)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		return v, nil
	case promql.Scalar:
		return promql.Vector{{T: v.T, F: v.V, Metric: labels.EmptyLabels()}}, nil
	default:
		return nil, fmt.Errorf("expression returns a %s, not an instant vector", res.Value.Type())
	}
}

// Alerts lists every alert: firing first, then pending, then resolved;
// by name and labels within each.
func (e *Evaluator) Alerts() []Alert {
	e.mu.Lock()
	var out []Alert
	for _, m := range e.alerts {
		for _, a := range m {
			out = append(out, a)
		}
	}
	e.mu.Unlock()
	rank := map[State]int{Firing: 0, Pending: 1, Resolved: 2}
	slices.SortFunc(out, func(a, b Alert) int {
		if d := rank[a.State] - rank[b.State]; d != 0 {
			return d
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return labels.Compare(labels.FromMap(a.Labels), labels.FromMap(b.Labels))
	})
	return out
}

// Rules reports every rule (built-in ones first) with its last evaluation.
func (e *Evaluator) Rules() []RuleHealth {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.health)
}
