package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

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
	err = s.writer.QueryRowContext(ctx, `
		INSERT INTO rollouts (app, env, strategy, from_revision, to_revision, phase, active, step,
			step_started_at, last_progress_at, reason, message, actor, created_at, updated_at, finished_at, generation,
			details, cause)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING id`,
		r.App, r.Env, string(r.Strategy), r.FromRevision, r.ToRevision, r.Phase.String(), !r.Phase.Final(), r.Step,
		micros(r.StepStartedAt), micros(r.LastProgressAt), r.Reason, r.Message, r.Actor,
		micros(r.CreatedAt), micros(r.UpdatedAt), micros(r.FinishedAt), r.Generation, details, string(r.Cause),
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
	res, err := s.writer.ExecContext(ctx, `
		UPDATE rollouts SET app = ?, env = ?, strategy = ?, from_revision = ?, to_revision = ?,
			phase = ?, active = ?, step = ?, step_started_at = ?, last_progress_at = ?,
			reason = ?, message = ?, actor = ?, created_at = ?, updated_at = ?, finished_at = ?,
			details = ?, cause = ?, generation = generation + 1
		WHERE id = ? AND generation = ?`,
		r.App, r.Env, string(r.Strategy), r.FromRevision, r.ToRevision,
		r.Phase.String(), !r.Phase.Final(), r.Step, micros(r.StepStartedAt), micros(r.LastProgressAt),
		r.Reason, r.Message, r.Actor, micros(r.CreatedAt), micros(r.UpdatedAt), micros(r.FinishedAt),
		details, string(r.Cause), r.ID, r.Generation)
	if err != nil {
		return rollout.Rollout{}, fmt.Errorf("update rollout %d: %w", r.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return rollout.Rollout{}, fmt.Errorf("update rollout %d: %w", r.ID, err)
	}
	if n == 0 {
		// Rollouts are never deleted, so a row that is there now was there
		// during the update: its generation differed.
		var stored int64
		err := s.reader.QueryRowContext(ctx, `SELECT generation FROM rollouts WHERE id = ?`, r.ID).Scan(&stored)
		if errors.Is(err, sql.ErrNoRows) {
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
	row := s.reader.QueryRowContext(ctx, `SELECT `+rolloutColumns+` FROM rollouts WHERE id = ?`, id)
	r, err := scanRollout(row)
	if errors.Is(err, sql.ErrNoRows) {
		return rollout.Rollout{}, fmt.Errorf("rollout %d: %w", id, rollout.ErrNotFound)
	}
	if err != nil {
		return rollout.Rollout{}, fmt.Errorf("get rollout %d: %w", id, err)
	}
	return r, nil
}

// ListRollouts returns the rollouts f selects, newest first.
func (s *Store) ListRollouts(ctx context.Context, f rollout.RolloutFilter) ([]rollout.Rollout, error) {
	var where []string
	var args []any
	if f.App != "" {
		where, args = append(where, "app = ?"), append(args, f.App)
	}
	if f.Env != "" {
		where, args = append(where, "env = ?"), append(args, f.Env)
	}
	if f.Active {
		// Written as the partial index's condition so the index applies.
		where = append(where, "active = 1")
	}
	q := `SELECT ` + rolloutColumns + ` FROM rollouts` + whereClause(where) + ` ORDER BY id DESC`
	if f.Limit > 0 {
		q, args = q+` LIMIT ?`, append(args, f.Limit)
	}
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list rollouts: %w", err)
	}
	rs, err := collect(rows, scanRollout)
	if err != nil {
		return nil, fmt.Errorf("list rollouts: %w", err)
	}
	return rs, nil
}

func scanRollout(row scanner) (rollout.Rollout, error) {
	var (
		r                                           rollout.Rollout
		strategy, phase                             string
		details                                     []byte
		stepStarted, lastProgress, created, updated sql.NullInt64
		finished                                    sql.NullInt64
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

func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}
