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
// an instance crash or restart, a user's command.
type Event struct {
	// ID is assigned by the store, increasing.
	ID        int64     `json:"id"`
	Time      time.Time `json:"time"`
	App       string    `json:"app"`
	Env       string    `json:"env"`
	RolloutID int64     `json:"rolloutId,omitempty"`
	Type      EventType `json:"type"`
	// Reason is short CamelCase, such as "InstanceRestarted" or "RolledBack".
	Reason  string `json:"reason"`
	Message string `json:"message"`
	// Actor is who caused it: a user, "cli", or "gantry" for automatic decisions.
	Actor string `json:"actor,omitempty"`
}
