package querycheck

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/prometheus/prometheus/promql/parser"
)

// Defaults and bounds of a Check.
const (
	// DefaultInterval is a check's interval when unset.
	DefaultInterval = 30 * time.Second
	// MaxInterval is the longest interval accepted.
	MaxInterval = time.Hour
	// MaxFailureLimit is the largest failureLimit accepted.
	MaxFailureLimit = 1000
	// ErrorLimit is how many measurements in a row may fail to run (query
	// error, several series) before the check fails the rollout.
	ErrorLimit = 4
)

// Vars are what a query's template may use: {{.App}}, {{.Env}},
// {{.Revision}} (the new revision's number) and {{.Version}}.
type Vars struct {
	App, Env, Version string
	Revision          int
}

// Check is one compiled user-defined check.
type Check struct {
	// Name names the check in reasons and events.
	Name string
	// Query is the PromQL template; it must return one series (or a
	// scalar) whose value the condition reads as result.
	Query *template.Template
	// Condition is the success condition's text and its program.
	Condition string
	program   *vm.Program
	// Interval is the time between measurements; FailureLimit the
	// number of failed measurements tolerated (0: the first fails).
	Interval     time.Duration
	FailureLimit int
}

// Spec is a check as written in a spec.
type Spec struct {
	Name, Query, SuccessCondition string
	// IntervalSeconds: 0 means DefaultInterval.
	IntervalSeconds int
	FailureLimit    int
}

// FieldError is a problem with one field of a Spec: Field is its name
// (query, successCondition, ...).
type FieldError struct {
	Field, Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// sample is the Vars a query is checked with at compile time.
var sample = Vars{App: "app", Env: "env", Version: "v1", Revision: 1}

var promqlParser = parser.NewParser(parser.Options{})

// Compile checks s and returns its Check. Errors are *FieldError: a
// template that does not parse or names an unknown field, PromQL that
// does not parse once rendered, a condition that does not compile to a
// boolean over result, an interval or failure limit out of bounds.
func Compile(s Spec) (Check, error) {
	c := Check{Name: s.Name, Condition: s.SuccessCondition, Interval: DefaultInterval, FailureLimit: s.FailureLimit}
	if s.IntervalSeconds != 0 {
		c.Interval = time.Duration(s.IntervalSeconds) * time.Second
	}
	if c.Interval < time.Second || c.Interval > MaxInterval {
		return Check{}, &FieldError{"intervalSeconds", fmt.Sprintf("must be between 1 and %d, got %d; leave it out for %d", int(MaxInterval.Seconds()), s.IntervalSeconds, int(DefaultInterval.Seconds()))}
	}
	if s.FailureLimit < 0 || s.FailureLimit > MaxFailureLimit {
		return Check{}, &FieldError{"failureLimit", fmt.Sprintf("must be between 0 and %d failed measurements, got %d; leave it out for 0 (the first failure rolls back)", MaxFailureLimit, s.FailureLimit)}
	}
	if strings.TrimSpace(s.Query) == "" {
		return Check{}, &FieldError{"query", `required: a PromQL query returning one value, such as sum(rate(http_requests_total{app="{{.App}}",revision="{{.Revision}}",status=~"5.."}[1m]))`}
	}
	t, err := template.New(s.Name).Option("missingkey=error").Parse(s.Query)
	if err != nil {
		return Check{}, &FieldError{"query", fmt.Sprintf("template: %v; use {{.App}}, {{.Env}}, {{.Revision}} and {{.Version}}", err)}
	}
	c.Query = t
	q, err := c.Render(sample)
	if err != nil {
		return Check{}, &FieldError{"query", fmt.Sprintf("%v; use {{.App}}, {{.Env}}, {{.Revision}} and {{.Version}}", err)}
	}
	if _, err := promqlParser.ParseExpr(q); err != nil {
		return Check{}, &FieldError{"query", fmt.Sprintf("not valid PromQL: %v", err)}
	}
	if strings.TrimSpace(s.SuccessCondition) == "" {
		return Check{}, &FieldError{"successCondition", `required: a condition on the query's value, such as "result < 0.05"`}
	}
	c.program, err = expr.Compile(s.SuccessCondition, expr.Env(map[string]any{"result": 0.0}), expr.AsBool())
	if err != nil {
		return Check{}, &FieldError{"successCondition", fmt.Sprintf("%v; write a condition on result (the query's value), such as \"result < 0.05\"", oneLine(err))}
	}
	return c, nil
}

// Render expands the query for v.
func (c Check) Render(v Vars) (string, error) {
	var b bytes.Buffer
	if err := c.Query.Execute(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Succeeds evaluates the condition with result set to value.
func (c Check) Succeeds(value float64) (bool, error) {
	out, err := expr.Run(c.program, map[string]any{"result": value})
	if err != nil {
		return false, fmt.Errorf("condition %q: %w", c.Condition, err)
	}
	ok, _ := out.(bool)
	return ok, nil
}

// oneLine keeps expr's error message without its source excerpt.
func oneLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}
