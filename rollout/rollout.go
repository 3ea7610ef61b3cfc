package rollout

import (
	"time"

	"github.com/gantry-dev/gantry/spec"
)

// Rollout moves an app in one environment from its stable revision
// (FromRevision, 0 when there is none) to ToRevision.
type Rollout struct {
	// ID is assigned by the store, from 1.
	ID       int64             `json:"id"`
	App      string            `json:"app"`
	Env      string            `json:"env"`
	Strategy spec.StrategyType `json:"strategy"`
	// FromRevision is the stable revision when the rollout began; 0: none.
	FromRevision int `json:"fromRevision"`
	// ToRevision is the revision being rolled out.
	ToRevision int   `json:"toRevision"`
	Phase      Phase `json:"phase"`
	// Step is the index of the strategy's current step (canary), from 0.
	Step int `json:"step"`
	// StepStartedAt is when the current step began (pauses count from it).
	StepStartedAt time.Time `json:"stepStartedAt"`
	// LastProgressAt is when the rollout last made progress; the progress
	// deadline counts from it.
	LastProgressAt time.Time `json:"lastProgressAt"`
	// Reason is the cause of the current phase, such as
	// ReasonProgressDeadlineExceeded; Details holds its facts and Message
	// renders them (or says what the rollout waits for) for people.
	Reason  Reason   `json:"reason,omitempty"`
	Message string   `json:"message,omitempty"`
	Details *Details `json:"details,omitempty"`
	// Cause is why the rollout was created: ReasonRolloutCreated (a
	// deploy), ReasonRolloutUndo, ReasonRolloutRetried or
	// ReasonDatabaseRollback; "" for rollouts stored before gantry
	// recorded it.
	Cause Reason `json:"cause,omitempty"`
	// Actor is who started the rollout ("cli", a user, "gantry" for automatic ones).
	Actor     string    `json:"actor,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// FinishedAt is set when Phase becomes final.
	FinishedAt time.Time `json:"finishedAt,omitzero"`
	// Generation increases with every stored update; UpdateRollout refuses
	// a rollout whose Generation is not the stored one (ErrConflict).
	Generation int64 `json:"generation"`
}

// Stable returns the revision that serves when this rollout is the latest
// one: ToRevision once it succeeded, FromRevision otherwise.
func (r Rollout) Stable() int {
	if r.Phase == Succeeded {
		return r.ToRevision
	}
	return r.FromRevision
}
