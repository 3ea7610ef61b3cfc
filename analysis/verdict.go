package analysis

import (
	"fmt"
	"strings"
)

// Action is what a verdict asks the rollout engine to do.
type Action int

// Actions, from least to most drastic. The zero Action is invalid.
const (
	// Continue: nothing is wrong and enough traffic is flowing, but there
	// is not yet evidence that the canary is not worse; keep the step.
	Continue Action = iota + 1
	// Hold: too little traffic to judge; keep the step and wait.
	Hold
	// Promote: there is evidence the canary is not worse; the step may end.
	Promote
	// Rollback: a trigger fired; return all traffic to the baseline.
	Rollback
)

var actionNames = [...]string{Continue: "Continue", Hold: "Hold", Promote: "Promote", Rollback: "Rollback"}

// String returns the action's name, such as "Rollback".
func (a Action) String() string {
	if a >= Continue && a <= Rollback {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// MarshalText writes the action's name.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads an action's name.
func (a *Action) UnmarshalText(b []byte) error {
	for v := Continue; v <= Rollback; v++ {
		if v.String() == string(b) {
			*a = v
			return nil
		}
	}
	return fmt.Errorf("unknown analysis action %q (want Continue, Hold, Promote or Rollback)", b)
}

// Trigger names a check. Rollback triggers fire a Rollback; the others
// (Traffic, ErrorEvidence, LatencyEvidence, WarmUp, Environment) explain a
// Hold, Continue or Promote.
type Trigger int

// Checks. The zero Trigger is invalid.
const (
	// UnhealthyInstances: the share of unhealthy canary instances exceeds
	// Config.MaxUnhealthyShare.
	UnhealthyInstances Trigger = iota + 1
	// ErrorRate: the canary's 5xx share over Config.Window exceeds
	// Config.MaxErrorRate.
	ErrorRate
	// LatencyRatio: the canary's latency quantile (p95) over Config.Window
	// exceeds Config.MaxLatencyRatio times the baseline's. Its Observed is
	// the share of canary requests slower than that multiple of the
	// baseline's quantile, its Threshold 1 − Config.LatencyQuantile.
	LatencyRatio
	// Memory: a canary instance's resident memory exceeds its limit for
	// Config.ResourceFor consecutive observations.
	Memory
	// CPU: a canary instance's CPU use exceeds its limit for
	// Config.ResourceFor consecutive observations.
	CPU
	// Dependency: a canary instance's health check reports a failing
	// dependency (such as its database connection).
	Dependency
	// ErrorTest: the sequential test finds the canary's error rate more
	// than 1+Config.ErrorMargin times the baseline's (e-value ≥
	// 2/Config.Alpha).
	ErrorTest
	// LatencyTest: the sequential tests find the canary's
	// Config.SlowQuantile slower than the baseline's by more than the
	// latency margins, and the canary's share of requests above that
	// threshold more than three times the baseline's; or its median
	// slower by more than the margins, and its share above that threshold
	// more than 1.5 times the baseline's (both e-values of one pair ≥
	// 4/Config.Alpha). The message names the quantile.
	LatencyTest
	// Traffic: fewer canary requests than Config.MinRequests in this step.
	Traffic
	// ErrorEvidence: whether the canary's errors are shown not worse.
	ErrorEvidence
	// LatencyEvidence: whether the canary's slow requests are shown not worse.
	LatencyEvidence
	// WarmUp: an instance is in its warm-up; the interval is not compared.
	WarmUp
	// Environment: a failure both the canary and the baseline show (a
	// dependency both report failing, both error rates above
	// Config.MaxErrorRate): not the canary's fault, so no rollback, but
	// no promotion while it lasts either.
	Environment
)

var triggerNames = [...]string{
	UnhealthyInstances: "UnhealthyInstances",
	ErrorRate:          "ErrorRate",
	LatencyRatio:       "LatencyRatio",
	Memory:             "Memory",
	CPU:                "CPU",
	Dependency:         "Dependency",
	ErrorTest:          "ErrorTest",
	LatencyTest:        "LatencyTest",
	Traffic:            "Traffic",
	ErrorEvidence:      "ErrorEvidence",
	LatencyEvidence:    "LatencyEvidence",
	WarmUp:             "WarmUp",
	Environment:        "Environment",
}

// String returns the trigger's name, such as "ErrorRate".
func (t Trigger) String() string {
	if t >= UnhealthyInstances && t <= Environment {
		return triggerNames[t]
	}
	return fmt.Sprintf("Trigger(%d)", int(t))
}

// MarshalText writes the trigger's name.
func (t Trigger) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText reads a trigger's name.
func (t *Trigger) UnmarshalText(b []byte) error {
	for v := UnhealthyInstances; v <= Environment; v++ {
		if v.String() == string(b) {
			*t = v
			return nil
		}
	}
	return fmt.Errorf("unknown analysis trigger %q", b)
}

// Reason is one check's finding, as data and as a sentence.
type Reason struct {
	Trigger Trigger `json:"trigger"`
	// Fired is true for a rollback trigger that fired, and for evidence
	// that was found (ErrorEvidence, LatencyEvidence); false for a check
	// that explains what is still missing.
	Fired bool `json:"fired"`
	// Observed and Threshold are the compared numbers in the trigger's own
	// unit: a share (0.079 is 7.9%), a ratio, an e-value, bytes, CPU
	// millicores, a request count or a number of failing dependencies.
	Observed  float64 `json:"observed"`
	Threshold float64 `json:"threshold"`
	// Message explains the finding with its numbers, for people.
	Message string `json:"message"`
}

// String returns "Trigger: Message".
func (r Reason) String() string { return r.Trigger.String() + ": " + r.Message }

// Verdict is the analysis' answer to one observation.
type Verdict struct {
	Action  Action   `json:"action"`
	Reasons []Reason `json:"reasons"`
}

// Reason returns the verdict's reason for trigger t; ok is false when the
// verdict has none.
func (v Verdict) Reason(t Trigger) (r Reason, ok bool) {
	for _, r := range v.Reasons {
		if r.Trigger == t {
			return r, true
		}
	}
	return Reason{}, false
}

// String returns the action followed by its reasons, separated by "; ".
func (v Verdict) String() string {
	var b strings.Builder
	b.WriteString(v.Action.String())
	for i, r := range v.Reasons {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(r.String())
	}
	return b.String()
}
