package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// CreateRevision stores rev with the next number for its app and
// environment; numbers are never reused.
func (s *Store) CreateRevision(ctx context.Context, rev rollout.Revision) (rollout.Revision, error) {
	specJSON, err := json.Marshal(rev.Spec)
	if err != nil {
		return rollout.Revision{}, fmt.Errorf("create revision of %s/%s: encode spec: %w", rev.App, rev.Env, err)
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return rollout.Revision{}, fmt.Errorf("create revision of %s/%s: %w", rev.App, rev.Env, err)
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, `
		INSERT INTO revision_counters (app, env, last_number) VALUES (?, ?, 1)
		ON CONFLICT (app, env) DO UPDATE SET last_number = last_number + 1
		RETURNING last_number`, rev.App, rev.Env).Scan(&rev.Number)
	if err != nil {
		return rollout.Revision{}, fmt.Errorf("create revision of %s/%s: number it: %w", rev.App, rev.Env, err)
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO revisions (app, env, number, version, spec, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		rev.App, rev.Env, rev.Number, rev.Version, string(specJSON), micros(rev.CreatedAt))
	if err != nil {
		return rollout.Revision{}, fmt.Errorf("create revision %d of %s/%s: %w", rev.Number, rev.App, rev.Env, err)
	}
	if err := tx.Commit(); err != nil {
		return rollout.Revision{}, fmt.Errorf("create revision %d of %s/%s: commit: %w", rev.Number, rev.App, rev.Env, err)
	}
	// Hand back what a read would return.
	rev.Spec = spec.AppSpec{}
	if err := json.Unmarshal(specJSON, &rev.Spec); err != nil {
		return rollout.Revision{}, fmt.Errorf("create revision %d of %s/%s: %w", rev.Number, rev.App, rev.Env, err)
	}
	rev.CreatedAt = storedTime(rev.CreatedAt)
	return rev, nil
}

// GetRevision returns one revision, or rollout.ErrNotFound.
func (s *Store) GetRevision(ctx context.Context, app, env string, number int) (rollout.Revision, error) {
	row := s.reader.QueryRowContext(ctx, `
		SELECT app, env, number, version, spec, created_at FROM revisions
		WHERE app = ? AND env = ? AND number = ?`, app, env, number)
	rev, err := scanRevision(row)
	if errors.Is(err, sql.ErrNoRows) {
		return rollout.Revision{}, fmt.Errorf("revision %d of %s/%s: %w", number, app, env, rollout.ErrNotFound)
	}
	if err != nil {
		return rollout.Revision{}, fmt.Errorf("get revision %d of %s/%s: %w", number, app, env, err)
	}
	return rev, nil
}

// ListRevisions returns an app's revisions in an environment, oldest first.
func (s *Store) ListRevisions(ctx context.Context, app, env string) ([]rollout.Revision, error) {
	rows, err := s.reader.QueryContext(ctx, `
		SELECT app, env, number, version, spec, created_at FROM revisions
		WHERE app = ? AND env = ? ORDER BY number`, app, env)
	if err != nil {
		return nil, fmt.Errorf("list revisions of %s/%s: %w", app, env, err)
	}
	revs, err := collect(rows, scanRevision)
	if err != nil {
		return nil, fmt.Errorf("list revisions of %s/%s: %w", app, env, err)
	}
	return revs, nil
}

// DeleteRevision removes a revision, or returns rollout.ErrNotFound.
func (s *Store) DeleteRevision(ctx context.Context, app, env string, number int) error {
	res, err := s.writer.ExecContext(ctx, `DELETE FROM revisions WHERE app = ? AND env = ? AND number = ?`, app, env, number)
	if err != nil {
		return fmt.Errorf("delete revision %d of %s/%s: %w", number, app, env, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete revision %d of %s/%s: %w", number, app, env, err)
	} else if n == 0 {
		return fmt.Errorf("revision %d of %s/%s: %w", number, app, env, rollout.ErrNotFound)
	}
	return nil
}

func scanRevision(row scanner) (rollout.Revision, error) {
	var (
		r       rollout.Revision
		js      []byte
		created sql.NullInt64
	)
	if err := row.Scan(&r.App, &r.Env, &r.Number, &r.Version, &js, &created); err != nil {
		return r, err
	}
	if err := json.Unmarshal(js, &r.Spec); err != nil {
		return r, fmt.Errorf("decode spec of revision %d of %s/%s: %w", r.Number, r.App, r.Env, err)
	}
	r.CreatedAt = timeOf(created)
	return r, nil
}
