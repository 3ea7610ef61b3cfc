package alerting

import (
	"time"
)

// State is an alert's state, as Prometheus names them.
type State string

// States of an alert.
const (
	// Pending: the rule's expression returns the alert, for less than the rule's `for`.
	Pending State = "pending"
	// Firing: it has returned it for at least `for` (or is kept firing by keep_firing_for).
	Firing State = "firing"
	// Resolved: it fired and the expression no longer returns it.
	Resolved State = "resolved"
)

// Alert is one alert instance: a rule and a label set the rule's
// expression returned.
type Alert struct {
	// Name is the alerting rule's name (label alertname).
	Name string `json:"name"`
	// Rule is where the rule is, "file:line".
	Rule  string `json:"rule"`
	State State  `json:"state"`
	// Labels are the series' labels (without __name__), the rule's labels
	// and alertname; Annotations are the rule's, expanded.
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// Value is the expression's value at the last evaluation that returned the alert.
	Value float64 `json:"value"`
	// ActiveAt is when the expression first returned it; FiredAt when it
	// started firing (zero: not yet); ResolvedAt when it resolved (zero:
	// not resolved); LastSeen the last evaluation that returned it.
	ActiveAt   time.Time `json:"activeAt"`
	FiredAt    time.Time `json:"firedAt,omitzero"`
	ResolvedAt time.Time `json:"resolvedAt,omitzero"`
	LastSeen   time.Time `json:"lastSeen"`
	// Key identifies the alert across evaluations (a hash of its labels).
	Key uint64 `json:"-"`
}

// Transition is an alert's change of state at one evaluation.
type Transition struct {
	From, To State
	Alert    Alert
}

// resolvedRetention is how long a resolved alert stays listed.
const resolvedRetention = 15 * time.Minute

// Seen is one alert the rule's expression returned at an evaluation.
type Seen struct {
	Key         uint64
	Labels      map[string]string
	Annotations map[string]string
	Value       float64
}

// Advance applies one evaluation of rule r at now to its alerts prev,
// given the alerts the expression returned, and returns the alerts after
// it and the transitions (pending→firing, firing→resolved, new pending or
// firing). It is Prometheus's alert life cycle: an alert is pending until
// it has been returned for r.For, then firing; pending alerts no longer
// returned are dropped; firing ones resolve once not returned for
// r.KeepFiringFor; resolved alerts are listed for 15 minutes.
func Advance(r Rule, prev map[uint64]Alert, seen []Seen, now time.Time) (map[uint64]Alert, []Transition) {
	next := make(map[uint64]Alert, len(prev)+len(seen))
	var tr []Transition
	returned := make(map[uint64]bool, len(seen))
	for _, s := range seen {
		returned[s.Key] = true
		a, ok := prev[s.Key]
		if !ok || a.State == Resolved {
			a = Alert{Name: r.Alert, Rule: r.Where(), State: Pending, ActiveAt: now, Key: s.Key}
			if r.For <= 0 {
				a.State, a.FiredAt = Firing, now
			}
			tr = append(tr, Transition{To: a.State, Alert: a})
		} else if a.State == Pending && now.Sub(a.ActiveAt) >= r.For {
			a.State, a.FiredAt = Firing, now
			tr = append(tr, Transition{From: Pending, To: Firing, Alert: a})
		}
		a.Labels, a.Annotations, a.Value, a.LastSeen = s.Labels, s.Annotations, s.Value, now
		next[s.Key] = a
		for i := range tr {
			if tr[i].Alert.Key == s.Key {
				tr[i].Alert = a
			}
		}
	}
	for k, a := range prev {
		if returned[k] {
			continue
		}
		switch a.State {
		case Pending:
			// dropped: it never fired
		case Firing:
			if r.KeepFiringFor > 0 && now.Sub(a.LastSeen) < r.KeepFiringFor {
				next[k] = a
				continue
			}
			a.State, a.ResolvedAt = Resolved, now
			next[k] = a
			tr = append(tr, Transition{From: Firing, To: Resolved, Alert: a})
		case Resolved:
			if now.Sub(a.ResolvedAt) < resolvedRetention {
				next[k] = a
			}
		}
	}
	return next, tr
}
