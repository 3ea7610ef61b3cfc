package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
	"github.com/gantry-dev/gantry/store/sqlstore"
)

const rolloutColumns = `id, app, env, strategy, from_revision, to_revision, phase, step,
	step_started_at, last_progress_at, reason, message, actor, created_at, updated_at, finished_at, generation,
	details, cause`

// CreateRollout stores r with a new ID and Generation 1.
func (s *Store) CreateRollout(ctx context.Context, r rollout.Rollout) (rollout.Rollout, error) {
	r.Generation = 1
	details, err := sqlstore.Details(r.Details)
	if err != nil {
		return rollout.Rollout{}, fmt.Errorf("create rollout of %s/%s: %w", r.App, r.Env, err)
	}
	err = s.pool.QueryRow(ctx, `
		INSERT INTO rollouts (app, env, strategy, from_revision, to_revision, phase, active, step,
			step_started_at, last_progress_at, reason, message, actor, created_at, updated_at, finished_at, generation,
			details, cause)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
		RETURNING id`,
		r.App, r.Env, string(r.Strategy), r.FromRevision, r.ToRevision, r.Phase.String(), !r.Phase.Final(), r.Step,
		tstz(r.StepStartedAt), tstz(r.LastProgressAt), r.Reason, r.Message, r.Actor,
		tstz(r.CreatedAt), tstz(r.UpdatedAt), tstz(r.FinishedAt), r.Generation, details, string(r.Cause),
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
	details, err := sqlstore.Details(r.Details)
	if err != nil {
		return rollout.Rollout{}, fmt.Errorf("update rollout %d: %w", r.ID, err)
	}
	tag, err := s.pool.Exec(ctx, `
		UPDATE rollouts SET app = $1, env = $2, strategy = $3, from_revision = $4, to_revision = $5,
			phase = $6, active = $7, step = $8, step_started_at = $9, last_progress_at = $10,
			reason = $11, message = $12, actor = $13, created_at = $14, updated_at = $15, finished_at = $16,
			details = $17, cause = $18, generation = generation + 1
		WHERE id = $19 AND generation = $20`,
		r.App, r.Env, string(r.Strategy), r.FromRevision, r.ToRevision,
		r.Phase.String(), !r.Phase.Final(), r.Step, tstz(r.StepStartedAt), tstz(r.LastProgressAt),
		r.Reason, r.Message, r.Actor, tstz(r.CreatedAt), tstz(r.UpdatedAt), tstz(r.FinishedAt),
		details, string(r.Cause), r.ID, r.Generation)
	if err != nil {
		return rollout.Rollout{}, fmt.Errorf("update rollout %d: %w", r.ID, err)
	}
	if tag.RowsAffected() == 0 {
		// Rollouts are never deleted: a row there now was there during the
		// update, with another generation.
		var stored int64
		err := s.pool.QueryRow(ctx, `SELECT generation FROM rollouts WHERE id = $1`, r.ID).Scan(&stored)
		if errors.Is(err, pgx.ErrNoRows) {
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
	r, err := scanRollout(s.pool.QueryRow(ctx, `SELECT `+rolloutColumns+` FROM rollouts WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return rollout.Rollout{}, fmt.Errorf("rollout %d: %w", id, rollout.ErrNotFound)
	}
	if err != nil {
		return rollout.Rollout{}, fmt.Errorf("get rollout %d: %w", id, err)
	}
	return r, nil
}

// ListRollouts returns the rollouts f selects, newest first.
func (s *Store) ListRollouts(ctx context.Context, f rollout.RolloutFilter) ([]rollout.Rollout, error) {
	var q query
	if f.App != "" {
		q.add("app = ?", f.App)
	}
	if f.Env != "" {
		q.add("env = ?", f.Env)
	}
	if f.Active {
		q.where = append(q.where, "active")
	}
	sql := `SELECT ` + rolloutColumns + ` FROM rollouts` + q.clause() + ` ORDER BY id DESC`
	if f.Limit > 0 {
		sql += ` LIMIT ` + q.arg(f.Limit)
	}
	rows, err := s.pool.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, fmt.Errorf("list rollouts: %w", err)
	}
	rs, err := collect(rows, scanRollout)
	if err != nil {
		return nil, fmt.Errorf("list rollouts: %w", err)
	}
	return rs, nil
}

func scanRollout(row pgx.Row) (rollout.Rollout, error) {
	var (
		r                                           rollout.Rollout
		strategy, phase                             string
		details                                     []byte
		stepStarted, lastProgress, created, updated *time.Time
		finished                                    *time.Time
	)
	err := row.Scan(&r.ID, &r.App, &r.Env, &strategy, &r.FromRevision, &r.ToRevision, &phase, &r.Step,
		&stepStarted, &lastProgress, &r.Reason, &r.Message, &r.Actor, &created, &updated, &finished, &r.Generation,
		&details, &r.Cause)
	if err != nil {
		return r, err
	}
	if r.Phase, err = rollout.ParsePhase(phase); err != nil {
		return r, fmt.Errorf("rollout %d: %w", r.ID, err)
	}
	if r.Details, err = sqlstore.DecodeDetails(details); err != nil {
		return r, fmt.Errorf("rollout %d: %w", r.ID, err)
	}
	r.Strategy = spec.StrategyType(strategy)
	r.StepStartedAt, r.LastProgressAt = timeOf(stepStarted), timeOf(lastProgress)
	r.CreatedAt, r.UpdatedAt, r.FinishedAt = timeOf(created), timeOf(updated), timeOf(finished)
	return r, nil
}

// storedRollout returns r as a read gives it back.
func storedRollout(r rollout.Rollout) (rollout.Rollout, error) {
	for _, t := range []*time.Time{&r.StepStartedAt, &r.LastProgressAt, &r.CreatedAt, &r.UpdatedAt, &r.FinishedAt} {
		*t = storedTime(*t)
	}
	var err error
	r.Details, err = sqlstore.StoredDetails(r.Details)
	return r, err
}
