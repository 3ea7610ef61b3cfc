package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

const rolloutColumns = `id, app, env, strategy, from_revision, to_revision, phase, step,
	step_started_at, last_progress_at, reason, message, actor, created_at, updated_at, finished_at, generation,
	details, cause`

// CreateRollout stores r with a new ID and Generation 1.
func (s *Store) CreateRollout(ctx context.Context, r rollout.Rollout) (rollout.Rollout, error) {
	r.Generation = 1
	details, err := Details(r.Details)
	if err != nil {
		return rollout.Rollout{}, fmt.Errorf("create rollout of %s/%s: %w", r.App, r.Env, err)
	}
	t := s.Dialect.Time
	err = s.DB.ExecRow(ctx, `
		INSERT INTO rollouts (app, env, strategy, from_revision, to_revision, phase, active, step,
			step_started_at, last_progress_at, reason, message, actor, created_at, updated_at, finished_at, generation,
			details, cause)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING id`,
		r.App, r.Env, string(r.Strategy), r.FromRevision, r.ToRevision, r.Phase.String(), !r.Phase.Final(), r.Step,
		t(r.StepStartedAt), t(r.LastProgressAt), string(r.Reason), r.Message, r.Actor,
		t(r.CreatedAt), t(r.UpdatedAt), t(r.FinishedAt), r.Generation, details, string(r.Cause),
	).Scan(&r.ID)
	if err != nil {
		return rollout.Rollout{}, fmt.Errorf("create rollout of %s/%s: %w", r.App, r.Env, err)
	}
	return storedRollout(r)
}

// UpdateRollout stores r if its Generation is the stored one and returns it
// with Generation incremented; otherwise rollout.ErrConflict (or
// rollout.ErrNotFound for an unknown ID).
func (s *Store) UpdateRollout(ctx context.Context, r rollout.Rollout) (rollout.Rollout, error) {
	details, err := Details(r.Details)
	if err != nil {
		return rollout.Rollout{}, fmt.Errorf("update rollout %d: %w", r.ID, err)
	}
	t := s.Dialect.Time
	n, err := s.DB.Exec(ctx, `
		UPDATE rollouts SET app = ?, env = ?, strategy = ?, from_revision = ?, to_revision = ?,
			phase = ?, active = ?, step = ?, step_started_at = ?, last_progress_at = ?,
			reason = ?, message = ?, actor = ?, created_at = ?, updated_at = ?, finished_at = ?,
			details = ?, cause = ?, generation = generation + 1
		WHERE id = ? AND generation = ?`,
		r.App, r.Env, string(r.Strategy), r.FromRevision, r.ToRevision,
		r.Phase.String(), !r.Phase.Final(), r.Step, t(r.StepStartedAt), t(r.LastProgressAt),
		string(r.Reason), r.Message, r.Actor, t(r.CreatedAt), t(r.UpdatedAt), t(r.FinishedAt),
		details, string(r.Cause), r.ID, r.Generation)
	if err != nil {
		return rollout.Rollout{}, fmt.Errorf("update rollout %d: %w", r.ID, err)
	}
	if n == 0 {
		// Rollouts are never deleted, so a row that is there now was there
		// during the update: its generation differed.
		var stored int64
		err := s.DB.QueryRow(ctx, `SELECT generation FROM rollouts WHERE id = ?`, r.ID).Scan(&stored)
		if errors.Is(err, ErrNoRows) {
			return rollout.Rollout{}, fmt.Errorf("update rollout %d: %w", r.ID, rollout.ErrNotFound)
		}
		if err != nil {
			return rollout.Rollout{}, fmt.Errorf("update rollout %d: %w", r.ID, err)
		}
		return rollout.Rollout{}, fmt.Errorf("update rollout %d at generation %d (stored: %d): %w", r.ID, r.Generation, stored, rollout.ErrConflict)
	}
	r.Generation++
	return storedRollout(r)
}

// GetRollout returns one rollout, or rollout.ErrNotFound.
func (s *Store) GetRollout(ctx context.Context, id int64) (rollout.Rollout, error) {
	r, err := scanRollout(s.DB.QueryRow(ctx, `SELECT `+rolloutColumns+` FROM rollouts WHERE id = ?`, id))
	if errors.Is(err, ErrNoRows) {
		return rollout.Rollout{}, fmt.Errorf("rollout %d: %w", id, rollout.ErrNotFound)
	}
	if err != nil {
		return rollout.Rollout{}, fmt.Errorf("get rollout %d: %w", id, err)
	}
	return r, nil
}

// ListRollouts returns the rollouts f selects, newest first.
func (s *Store) ListRollouts(ctx context.Context, f rollout.RolloutFilter) ([]rollout.Rollout, error) {
	var w filter
	addIf(&w, "app = ?", f.App)
	addIf(&w, "env = ?", f.Env)
	if f.Active {
		w.conds = append(w.conds, s.Dialect.Active)
	}
	q, args := `SELECT `+rolloutColumns+` FROM rollouts`+w.where()+` ORDER BY id DESC`, w.args
	if f.Limit > 0 {
		q, args = q+` LIMIT ?`, append(args, f.Limit)
	}
	return list(ctx, s.DB, "rollouts", scanRollout, q, args...)
}

func scanRollout(row Row) (rollout.Rollout, error) {
	var (
		r               rollout.Rollout
		strategy, phase string
		reason, cause   string
		details         []byte
	)
	err := row.Scan(&r.ID, &r.App, &r.Env, &strategy, &r.FromRevision, &r.ToRevision, &phase, &r.Step,
		Time{&r.StepStartedAt}, Time{&r.LastProgressAt}, &reason, &r.Message, &r.Actor,
		Time{&r.CreatedAt}, Time{&r.UpdatedAt}, Time{&r.FinishedAt}, &r.Generation, &details, &cause)
	if err != nil {
		return r, err
	}
	if r.Phase, err = rollout.ParsePhase(phase); err != nil {
		return r, fmt.Errorf("rollout %d: %w", r.ID, err)
	}
	if r.Details, err = DecodeDetails(details); err != nil {
		return r, fmt.Errorf("rollout %d: %w", r.ID, err)
	}
	r.Strategy, r.Reason, r.Cause = spec.StrategyType(strategy), rollout.Reason(reason), rollout.Reason(cause)
	return r, nil
}

// storedRollout returns r as a read gives it back.
func storedRollout(r rollout.Rollout) (rollout.Rollout, error) {
	for _, t := range []*time.Time{&r.StepStartedAt, &r.LastProgressAt, &r.CreatedAt, &r.UpdatedAt, &r.FinishedAt} {
		*t = StoredTime(*t)
	}
	var err error
	r.Details, err = StoredDetails(r.Details)
	return r, err
}
