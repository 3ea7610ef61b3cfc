package rollout

import "time"

// EventType says whether an event is routine or calls for attention.
type EventType string

// Event types, as in Kubernetes.
const (
	Normal  EventType = "Normal"
	Warning EventType = "Warning"
)

// Event is one thing that happened to an app: a transition, a scaling step,
// an instance crash or restart, a user's command. Its facts are data
// (Reason, From, To, Actor, Details); Message renders them for people and
// is never read back by gantry.
type Event struct {
	// ID is assigned by the store, increasing.
	ID        int64     `json:"id"`
	Time      time.Time `json:"time"`
	App       string    `json:"app"`
	Env       string    `json:"env"`
	RolloutID int64     `json:"rolloutId,omitempty"`
	Type      EventType `json:"type"`
	// Reason names what happened; see Reasons.
	Reason Reason `json:"reason"`
	// From and To are the rollout's phases before and after, for an event
	// that records a transition; both zero otherwise. A TransitionRecovered
	// event has only To: the phase whose transition event was lost.
	From Phase `json:"from,omitempty"`
	To   Phase `json:"to,omitempty"`
	// Message is the human rendering of the facts.
	Message string `json:"message"`
	// Actor is who caused it: a user, "cli", or "gantry" for automatic decisions.
	Actor string `json:"actor,omitempty"`
	// Details are the facts behind the event; nil when it has none.
	Details *Details `json:"details,omitempty"`
}

// Transition reports whether e records a rollout's change of phase
// (including one recovered after a crash).
func (e Event) Transition() bool { return e.To != 0 }
