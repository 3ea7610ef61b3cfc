package spec

import (
	"errors"
	"fmt"

	"github.com/gantry-dev/gantry/analysis/querycheck"
)

// QueryCheck is a user-defined PromQL check (Argo AnalysisTemplate
// style), an extra rollback trigger: while a rollout runs, gantry runs
// Query every IntervalSeconds against the server's metrics (its own, or
// the Prometheus of --analysis-prometheus) and aborts the rollout when
// SuccessCondition is false more than FailureLimit times.
type QueryCheck struct {
	// Name names the check in events and reasons; required, unique in
	// the environment.
	Name string `json:"name"`
	// Query is PromQL returning one value (a scalar or one series), a
	// template with {{.App}}, {{.Env}}, {{.Revision}} (the new revision's
	// number) and {{.Version}}. Required.
	Query string `json:"query"`
	// SuccessCondition is a boolean expression of result, the query's
	// value (expr-lang syntax): "result < 0.05". Required.
	SuccessCondition string `json:"successCondition"`
	// IntervalSeconds is the time between measurements (1 to 3,600);
	// 0: 30.
	IntervalSeconds int `json:"intervalSeconds,omitempty"`
	// FailureLimit is how many failed measurements are tolerated (0 to
	// 1,000); 0: the first failure aborts the rollout.
	FailureLimit int `json:"failureLimit,omitempty"`
}

// Compile checks the check and returns its compiled form.
func (c QueryCheck) Compile() (querycheck.Check, error) {
	return querycheck.Compile(querycheck.Spec{Name: c.Name, Query: c.Query, SuccessCondition: c.SuccessCondition,
		IntervalSeconds: c.IntervalSeconds, FailureLimit: c.FailureLimit})
}

// queryChecks checks spec.analysis.checks: names present and unique,
// queries that parse as templates and PromQL, conditions that compile.
func (v *validator) queryChecks(path string, checks []QueryCheck) {
	names := map[string]int{}
	for i, c := range checks {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		switch j, dup := names[c.Name]; {
		case c.Name == "":
			v.add(joinField(ipath, "name"), "required; name the check, such as error-share")
		case dup:
			v.add(joinField(ipath, "name"), "%q is already the name of %s[%d]; give each check its own name", c.Name, path, j)
		default:
			names[c.Name] = i
		}
		if _, err := c.Compile(); err != nil {
			var fe *querycheck.FieldError
			if errors.As(err, &fe) {
				v.add(joinField(ipath, fe.Field), "%s", fe.Message)
			} else {
				v.add(ipath, "%v", err)
			}
		}
	}
}
