package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
	// One statement: the counter's row lock serializes concurrent creators.
	err = s.pool.QueryRow(ctx, `
		WITH n AS (
			INSERT INTO revision_counters (app, env, last_number) VALUES ($1, $2, 1)
			ON CONFLICT (app, env) DO UPDATE SET last_number = revision_counters.last_number + 1
			RETURNING last_number
		)
		INSERT INTO revisions (app, env, number, version, spec, created_at)
		SELECT $1, $2, n.last_number, $3, $4, $5 FROM n
		RETURNING number`,
		rev.App, rev.Env, rev.Version, string(specJSON), tstz(rev.CreatedAt)).Scan(&rev.Number)
	if err != nil {
		return rollout.Revision{}, fmt.Errorf("create revision of %s/%s: %w", rev.App, rev.Env, err)
	}
	rev.Spec = spec.AppSpec{}
	if err := json.Unmarshal(specJSON, &rev.Spec); err != nil {
		return rollout.Revision{}, fmt.Errorf("create revision %d of %s/%s: %w", rev.Number, rev.App, rev.Env, err)
	}
	rev.CreatedAt = storedTime(rev.CreatedAt)
	return rev, nil
}

// GetRevision returns one revision, or rollout.ErrNotFound.
func (s *Store) GetRevision(ctx context.Context, app, env string, number int) (rollout.Revision, error) {
	rev, err := scanRevision(s.pool.QueryRow(ctx, `
		SELECT app, env, number, version, spec, created_at FROM revisions
		WHERE app = $1 AND env = $2 AND number = $3`, app, env, number))
	if errors.Is(err, pgx.ErrNoRows) {
		return rollout.Revision{}, fmt.Errorf("revision %d of %s/%s: %w", number, app, env, rollout.ErrNotFound)
	}
	if err != nil {
		return rollout.Revision{}, fmt.Errorf("get revision %d of %s/%s: %w", number, app, env, err)
	}
	return rev, nil
}

// ListRevisions returns an app's revisions in an environment, oldest first.
func (s *Store) ListRevisions(ctx context.Context, app, env string) ([]rollout.Revision, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT app, env, number, version, spec, created_at FROM revisions
		WHERE app = $1 AND env = $2 ORDER BY number`, app, env)
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
	tag, err := s.pool.Exec(ctx, `DELETE FROM revisions WHERE app = $1 AND env = $2 AND number = $3`, app, env, number)
	if err != nil {
		return fmt.Errorf("delete revision %d of %s/%s: %w", number, app, env, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revision %d of %s/%s: %w", number, app, env, rollout.ErrNotFound)
	}
	return nil
}

func scanRevision(row pgx.Row) (rollout.Revision, error) {
	var (
		r       rollout.Revision
		js      []byte
		created *time.Time
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
