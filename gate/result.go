package gate

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Status is a gate's outcome.
type Status int

// The statuses.
const (
	// Pass: the gate allows the deploy.
	Pass Status = iota + 1
	// Fail: the gate refuses it (blocking unless the Result is advisory).
	Fail
	// Overridden: the gate would refuse it, and an emergency override with
	// a reason lets it through; the audit log records the reason.
	Overridden
)

var statusNames = map[Status]string{Pass: "pass", Fail: "fail", Overridden: "overridden"}

// String returns "pass", "fail" or "overridden".
func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// MarshalText writes the status' name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a status' name.
func (s *Status) UnmarshalText(b []byte) error {
	for k, n := range statusNames {
		if n == string(b) {
			*s = k
			return nil
		}
	}
	return fmt.Errorf("unknown gate status %q: use pass, fail or overridden", b)
}

// Gate names.
const (
	WindowGate     = "window"
	PromotionGate  = "promotion"
	ApprovalGate   = "approval"
	RollbackGate   = "rollbackTarget"
	MigrationsGate = "migrations"
	AlertRulesGate = "alertRules"
	// HookPrefix starts the name of a hook's gate: "hook:ci".
	HookPrefix = "hook:"
)

// Result is one gate's verdict.
type Result struct {
	// Gate names the gate (Window, Promotion, …, or "hook:NAME").
	Gate   string `json:"gate"`
	Status Status `json:"status"`
	// Advisory: a Fail does not block (the environment's policy does not
	// list the gate under require).
	Advisory bool `json:"advisory,omitempty"`
	// Reason says why, in words for people.
	Reason string `json:"reason"`
	// Next is when the window gate next opens; zero otherwise.
	Next time.Time `json:"next,omitzero"`
}

// Blocks says whether the result refuses the deploy.
func (r Result) Blocks() bool { return r.Status == Fail && !r.Advisory }

// Checklist is every gate's result for one deploy, in the order run.
type Checklist []Result

// Passed says whether no result blocks the deploy.
func (c Checklist) Passed() bool {
	for _, r := range c {
		if r.Blocks() {
			return false
		}
	}
	return true
}

// Overridden says whether an override let any gate through.
func (c Checklist) Overridden() bool {
	for _, r := range c {
		if r.Status == Overridden {
			return true
		}
	}
	return false
}

// Refusal renders the blocking results as one message: "gate window:
// outside …; gate approval: …". Empty when nothing blocks.
func (c Checklist) Refusal() string {
	var parts []string
	for _, r := range c {
		if r.Blocks() {
			parts = append(parts, "gate "+r.Gate+": "+r.Reason)
		}
	}
	return strings.Join(parts, "; ")
}

// String renders one line per gate, as gantry deploy --dry-run prints it.
func (c Checklist) String() string {
	var b strings.Builder
	for _, r := range c {
		mark := r.Status.String()
		if r.Advisory && r.Status == Fail {
			mark = "warn"
		}
		fmt.Fprintf(&b, "%-10s %-16s %s\n", mark, r.Gate, r.Reason)
	}
	return b.String()
}

// Encode returns the checklist as JSON (for stores and audit details).
func (c Checklist) Encode() string {
	b, _ := json.Marshal(c) // a Checklist always encodes
	return string(b)
}
