package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gantry-dev/gantry/gate"
	"github.com/gantry-dev/gantry/pipeline"
	"github.com/gantry-dev/gantry/rollout"
)

var _ pipeline.Store = (*Store)(nil)

// AddApproval stores one approval (approvals).
func (s *Store) AddApproval(ctx context.Context, a gate.Approval) error {
	_, err := s.DB.Exec(ctx, `INSERT INTO approvals (app, env, version, approver, comment, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		a.App, a.Env, a.Version, a.Approver, a.Comment, s.Dialect.Time(a.At))
	if err != nil {
		return fmt.Errorf("store approval of %s %s in %s: %w", a.App, a.Version, a.Env, err)
	}
	return nil
}

// ListApprovals returns a version's approvals in an environment, oldest first.
func (s *Store) ListApprovals(ctx context.Context, app, env, version string) ([]gate.Approval, error) {
	return list(ctx, s.DB, "approvals", func(row Row) (gate.Approval, error) {
		var a gate.Approval
		err := row.Scan(&a.App, &a.Env, &a.Version, &a.Approver, &a.Comment, Time{&a.At})
		return a, err
	}, `SELECT app, env, version, approver, comment, created_at FROM approvals
		WHERE app = ? AND env = ? AND version = ? ORDER BY id`, app, env, version)
}

// AddCheck stores one deploy's gate checklist (gate_checks).
func (s *Store) AddCheck(ctx context.Context, c pipeline.Check) (pipeline.Check, error) {
	body, err := json.Marshal(c.Checklist)
	if err != nil {
		return c, fmt.Errorf("encode checklist: %w", err)
	}
	err = s.DB.ExecRow(ctx, `INSERT INTO gate_checks (app, env, version, rollout_id, actor, override_reason, checklist, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.App, c.Env, c.Version, c.RolloutID, c.Actor, c.Override, string(body), s.Dialect.Time(c.At)).Scan(&c.ID)
	if err != nil {
		return c, fmt.Errorf("store gate checks of %s %s in %s: %w", c.App, c.Version, c.Env, err)
	}
	c.At = StoredTime(c.At)
	return c, nil
}

// ListChecks returns an app's deploy checks, oldest first.
func (s *Store) ListChecks(ctx context.Context, app, env, version string) ([]pipeline.Check, error) {
	var f filter
	f.add("app = ?", app)
	addIf(&f, "env = ?", env)
	addIf(&f, "version = ?", version)
	return list(ctx, s.DB, "gate checks", func(row Row) (pipeline.Check, error) {
		var c pipeline.Check
		var body string
		if err := row.Scan(&c.ID, &c.App, &c.Env, &c.Version, &c.RolloutID, &c.Actor, &c.Override, &body, Time{&c.At}); err != nil {
			return c, err
		}
		return c, json.Unmarshal([]byte(body), &c.Checklist)
	}, `SELECT id, app, env, version, rollout_id, actor, override_reason, checklist, created_at FROM gate_checks`+f.where()+` ORDER BY id`, f.args...)
}

// CreateRun stores a pipeline run with a new ID.
func (s *Store) CreateRun(ctx context.Context, r pipeline.Run) (pipeline.Run, error) {
	err := s.DB.ExecRow(ctx, `INSERT INTO pipeline_runs (app, version, active, run, created_at) VALUES (?, ?, ?, '{}', ?) RETURNING id`,
		r.App, r.Version, !r.State.Final(), s.Dialect.Time(r.CreatedAt)).Scan(&r.ID)
	if err != nil {
		return r, fmt.Errorf("create pipeline run of %s %s: %w", r.App, r.Version, err)
	}
	r = storedRun(r)
	return r, s.UpdateRun(ctx, r)
}

// UpdateRun replaces a stored run.
func (s *Store) UpdateRun(ctx context.Context, r pipeline.Run) error {
	body, err := json.Marshal(storedRun(r))
	if err != nil {
		return fmt.Errorf("encode pipeline run %d: %w", r.ID, err)
	}
	n, err := s.DB.Exec(ctx, `UPDATE pipeline_runs SET active = ?, run = ? WHERE id = ?`, !r.State.Final(), string(body), r.ID)
	if err != nil {
		return fmt.Errorf("update pipeline run %d: %w", r.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("update pipeline run %d: %w", r.ID, rollout.ErrNotFound)
	}
	return nil
}

// GetRun returns one run, or rollout.ErrNotFound.
func (s *Store) GetRun(ctx context.Context, id int64) (pipeline.Run, error) {
	r, err := scanRun(s.DB.QueryRow(ctx, `SELECT run FROM pipeline_runs WHERE id = ?`, id))
	if errors.Is(err, ErrNoRows) {
		return r, fmt.Errorf("pipeline run %d: %w", id, rollout.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("get pipeline run %d: %w", id, err)
	}
	return r, nil
}

// ListRuns returns runs newest first.
func (s *Store) ListRuns(ctx context.Context, app string, active bool) ([]pipeline.Run, error) {
	var f filter
	addIf(&f, "app = ?", app)
	addIf(&f, "active = ?", active)
	return list(ctx, s.DB, "pipeline runs", scanRun, `SELECT run FROM pipeline_runs`+f.where()+` ORDER BY id DESC`, f.args...)
}

func scanRun(row Row) (pipeline.Run, error) {
	var r pipeline.Run
	var body string
	if err := row.Scan(&body); err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return r, fmt.Errorf("decode pipeline run: %w", err)
	}
	return r, nil
}

// storedRun returns r with its times as a read gives them back.
func storedRun(r pipeline.Run) pipeline.Run {
	r.Stages = append([]pipeline.Stage(nil), r.Stages...)
	for _, t := range []*time.Time{&r.CreatedAt, &r.UpdatedAt, &r.FinishedAt} {
		*t = StoredTime(*t)
	}
	for i := range r.Stages {
		r.Stages[i].StartedAt = StoredTime(r.Stages[i].StartedAt)
		r.Stages[i].FinishedAt = StoredTime(r.Stages[i].FinishedAt)
	}
	return r
}
