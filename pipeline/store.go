package pipeline

import (
	"context"
	"time"

	"github.com/gantry-dev/gantry/gate"
)

// Store keeps approvals, the gate checks of deploys and pipeline runs.
// store/sqlite and store/postgres implement it (store/sqlstore); the
// conformance suite is store/storetest's Pipeline group.
type Store interface {
	// AddApproval stores one approval.
	AddApproval(ctx context.Context, a gate.Approval) error
	// ListApprovals returns the approvals of version in app's env, oldest first.
	ListApprovals(ctx context.Context, app, env, version string) ([]gate.Approval, error)
	// AddCheck stores the gate checklist of one deploy.
	AddCheck(ctx context.Context, c Check) (Check, error)
	// ListChecks returns app's deploy checks, oldest first; env and
	// version "" match every one.
	ListChecks(ctx context.Context, app, env, version string) ([]Check, error)
	// CreateRun stores r with a new ID and returns it.
	CreateRun(ctx context.Context, r Run) (Run, error)
	// UpdateRun replaces the stored run r.ID; rollout.ErrNotFound when
	// there is none.
	UpdateRun(ctx context.Context, r Run) error
	// GetRun returns rollout.ErrNotFound for an unknown ID.
	GetRun(ctx context.Context, id int64) (Run, error)
	// ListRuns returns runs, newest first: app "" matches every app;
	// active keeps runs that have not ended.
	ListRuns(ctx context.Context, app string, active bool) ([]Run, error)
}

// Check is the gate checklist of one deploy, as it was decided.
type Check struct {
	ID      int64  `json:"id"`
	App     string `json:"app"`
	Env     string `json:"env"`
	Version string `json:"version"`
	// RolloutID is the rollout the deploy started; 0: it was refused.
	RolloutID int64  `json:"rolloutId,omitempty"`
	Actor     string `json:"actor"`
	// Override is the emergency override's reason; empty: none.
	Override  string         `json:"override,omitempty"`
	Checklist gate.Checklist `json:"checklist"`
	At        time.Time      `json:"at"`
}
