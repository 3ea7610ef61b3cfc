package rollout

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors that Store implementations return (wrapped).
var (
	// ErrNotFound: no such app, revision or rollout.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the rollout changed since it was read (Generation mismatch).
	ErrConflict = errors.New("conflict: changed since read")
)

// Store keeps gantry's state. Every method is safe for concurrent use.
// Implementations: store/sqlite (default) and, later, store/postgres; all
// pass the suite in store/storetest.
type Store interface {
	// PutApp creates or replaces an app's applied spec.
	PutApp(ctx context.Context, a AppRecord) error
	// GetApp returns ErrNotFound when the app was never applied.
	GetApp(ctx context.Context, name string) (AppRecord, error)
	ListApps(ctx context.Context) ([]AppRecord, error)

	// CreateRevision stores rev with the next Number for its app and
	// environment (Number is ignored on input) and returns it as stored.
	CreateRevision(ctx context.Context, rev Revision) (Revision, error)
	// GetRevision returns ErrNotFound for an unknown number.
	GetRevision(ctx context.Context, app, env string, number int) (Revision, error)
	// ListRevisions returns an app's revisions in an environment, oldest first.
	ListRevisions(ctx context.Context, app, env string) ([]Revision, error)
	// DeleteRevision removes an old revision (revisionHistoryLimit).
	DeleteRevision(ctx context.Context, app, env string, number int) error

	// CreateRollout stores r with a new ID and Generation 1 and returns it.
	CreateRollout(ctx context.Context, r Rollout) (Rollout, error)
	// UpdateRollout stores r if its Generation matches the stored one and
	// returns it with Generation incremented; otherwise ErrConflict.
	UpdateRollout(ctx context.Context, r Rollout) (Rollout, error)
	// GetRollout returns ErrNotFound for an unknown ID.
	GetRollout(ctx context.Context, id int64) (Rollout, error)
	// ListRollouts returns matching rollouts, newest first.
	ListRollouts(ctx context.Context, f RolloutFilter) ([]Rollout, error)

	// AppendEvent stores e with a new ID and returns it.
	AppendEvent(ctx context.Context, e Event) (Event, error)
	// ListEvents returns matching events, oldest first.
	ListEvents(ctx context.Context, f EventFilter) ([]Event, error)
}

// RolloutFilter selects rollouts; zero fields match everything.
type RolloutFilter struct {
	App string
	Env string
	// Active keeps only rollouts whose phase is not final.
	Active bool
	// Limit caps the result; 0: no cap.
	Limit int
}

// EventFilter selects events; zero fields match everything.
type EventFilter struct {
	App       string
	Env       string
	RolloutID int64
	// AfterID keeps events with ID > AfterID (for following).
	AfterID int64
	// Since keeps events at or after this time.
	Since time.Time
	// Limit keeps the newest Limit events; 0: no cap.
	Limit int
}
