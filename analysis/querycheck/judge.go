package querycheck

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Outcome is what one measurement found.
type Outcome int

const (
	// Passed: the condition held.
	Passed Outcome = iota
	// Failed: the condition did not hold.
	Failed
	// NoData: the query returned no series, or NaN (such as a share of
	// zero requests); it counts neither way.
	NoData
	// Errored: the query did not run or returned several series.
	Errored
)

// String names the outcome.
func (o Outcome) String() string {
	return [...]string{"passed", "failed", "no data", "error"}[o]
}

// Measurement is one evaluation of a check.
type Measurement struct {
	At      time.Time
	Outcome Outcome
	// Value is the query's value (Passed, Failed); Err says what went
	// wrong (Errored).
	Value float64
	Err   string
}

// Measure turns a query's answer, the values of the series it returned,
// into a measurement at t.
func Measure(c Check, t time.Time, values []float64, queryErr error) Measurement {
	m := Measurement{At: t}
	switch {
	case queryErr != nil:
		m.Outcome, m.Err = Errored, queryErr.Error()
	case len(values) == 0 || math.IsNaN(values[0]) && len(values) == 1:
		m.Outcome = NoData // NaN: such as 0/0, a share before any request
	case len(values) > 1:
		m.Outcome, m.Err = Errored, fmt.Sprintf("the query returned %d series, not one: aggregate it, for example with sum()", len(values))
	default:
		m.Value = values[0]
		ok, err := c.Succeeds(m.Value)
		switch {
		case err != nil:
			m.Outcome, m.Err = Errored, err.Error()
		case ok:
			m.Outcome = Passed
		default:
			m.Outcome = Failed
		}
	}
	return m
}

// Verdict is Judge's decision.
type Verdict struct {
	// Fail: the check fails the rollout.
	Fail bool
	// Failures counts the failed measurements; Reason explains the
	// verdict with the values (the failed ones, or the errors).
	Failures int
	Reason   string
}

// Judge decides from a check's measurements, oldest first, whether it
// fails the rollout: more failed measurements than FailureLimit, or
// ErrorLimit errors in a row.
func Judge(c Check, ms []Measurement) Verdict {
	var failed []string
	errs := 0
	lastErr := ""
	for _, m := range ms {
		switch m.Outcome {
		case Failed:
			failed = append(failed, fmt.Sprintf("%.4g at %s", m.Value, m.At.UTC().Format(time.TimeOnly)))
			errs = 0
		case Errored:
			errs++
			lastErr = m.Err
		default:
			errs = 0
		}
	}
	v := Verdict{Failures: len(failed)}
	switch {
	case len(failed) > c.FailureLimit:
		v.Fail = true
		v.Reason = fmt.Sprintf("check %s failed %d time(s), over its failure limit of %d: %q was false for result %s",
			c.Name, len(failed), c.FailureLimit, c.Condition, strings.Join(lastN(failed, 5), ", "))
	case errs >= ErrorLimit:
		v.Fail = true
		v.Reason = fmt.Sprintf("check %s could not be measured %d times in a row: %s", c.Name, errs, lastErr)
	case len(ms) == 0:
		v.Reason = fmt.Sprintf("check %s: not measured yet", c.Name)
	default:
		last := ms[len(ms)-1]
		v.Reason = fmt.Sprintf("check %s: %d failure(s) of %d allowed; last measurement %s", c.Name, len(failed), c.FailureLimit, last.Outcome)
		if last.Outcome == Passed || last.Outcome == Failed {
			v.Reason += fmt.Sprintf(" (result %.4g)", last.Value)
		}
	}
	return v
}

func lastN(s []string, n int) []string {
	if len(s) > n {
		return append([]string{"..."}, s[len(s)-n:]...)
	}
	return s
}
