package notify

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/rollout"
)

// Alert is an alert as it is sent: one alert instance of a rule.
type Alert struct {
	// Name is the rule's alert name; State "firing" or "resolved".
	Name  string `json:"name"`
	State string `json:"state"`
	// Rule is where the rule is, "file:line".
	Rule        string            `json:"rule"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// Value is the rule expression's last value for this alert.
	Value float64 `json:"value"`
	// StartsAt is when it started firing; EndsAt when it resolved (zero while firing).
	StartsAt time.Time `json:"startsAt"`
	EndsAt   time.Time `json:"endsAt,omitzero"`
	// Receivers named by the rule (label receiver); none: the route's alerts receivers.
	Receivers []string `json:"-"`
}

// Firing says whether the alert fires.
func (a Alert) Firing() bool { return a.State == "firing" }

// DedupKey identifies the alert across its trigger and resolve: the
// alert name and a hash of its labels. PagerDuty deduplicates on it.
func (a Alert) DedupKey() string {
	h := fnv.New64a()
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		fmt.Fprintf(h, "%s=%s\x00", k, a.Labels[k])
	}
	return fmt.Sprintf("gantry/%s/%016x", a.Name, h.Sum64())
}

// Title is a one-line description: state, name, where, summary.
func (a Alert) Title() string {
	s := fmt.Sprintf("[%s] %s", strings.ToUpper(a.State), a.Name)
	if where := scope(a.Labels); where != "" {
		s += " " + where
	}
	if sum := a.Annotations["summary"]; sum != "" {
		s += ": " + sum
	}
	return s
}

// scope names the app, environment and version an alert concerns.
func scope(l map[string]string) string {
	var parts []string
	if l["app"] != "" {
		parts = append(parts, l["app"])
	}
	if l["env"] != "" {
		parts = append(parts, l["env"])
	}
	s := strings.Join(parts, "/")
	if v := l["version"]; v != "" {
		s += " " + v
	} else if r := l["revision"]; r != "" {
		s += " revision " + r
	}
	return strings.TrimSpace(s)
}

// EventKind is the kind of a rollout event that is notified.
type EventKind string

// Rollout event kinds that are notified.
const (
	Started     EventKind = "started"
	Paused      EventKind = "paused"
	Promoted    EventKind = "promoted"
	Succeeded   EventKind = "succeeded"
	RollingBack EventKind = "rolling back"
	RolledBack  EventKind = "rolled back"
	Aborted     EventKind = "aborted"
	Failed      EventKind = "failed"
)

// KindOf says whether a rollout event is notified, and as what: the
// rollout started, paused, was promoted, succeeded, started rolling back
// (with the reason), ended rolled back or aborted, or failed. Scaling,
// steps, instances and other events are not notified.
func KindOf(e rollout.Event) (EventKind, bool) {
	switch {
	case e.Reason == rollout.ReasonRolloutStarted:
		return Started, true
	case e.Reason == rollout.ReasonPromoted:
		return Promoted, true
	case e.To == rollout.Paused && e.From != rollout.Paused:
		return Paused, true
	case e.To == rollout.Succeeded:
		return Succeeded, true
	case e.To == rollout.RollingBack && e.From != rollout.RollingBack:
		return RollingBack, true
	case e.To == rollout.RolledBack:
		return RolledBack, true
	case e.To == rollout.Aborted:
		return Aborted, true
	case e.To == rollout.Failed:
		return Failed, true
	}
	return "", false
}

// Event is a notified rollout event.
type Event struct {
	Kind EventKind `json:"kind"`
	rollout.Event
}

// Title is a one-line description of the event.
func (e Event) Title() string {
	return fmt.Sprintf("[%s] %s/%s rollout %d %s: %s", e.Type, e.App, e.Env, e.RolloutID, e.Kind, e.Message)
}

// Bad says whether the event calls for attention (it goes to PagerDuty as an incident).
func (e Event) Bad() bool {
	return e.Kind == RollingBack || e.Kind == Failed
}
