package postgres

import (
	"context"
	"fmt"

	"github.com/gantry-dev/gantry/rollout"
)

// insertRevision numbers and stores rev in one statement: the counter's
// row lock serializes concurrent creators (sqlstore.Store.InsertRevision).
func (s *Store) insertRevision(ctx context.Context, rev rollout.Revision, specJSON string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `
		WITH n AS (
			INSERT INTO revision_counters (app, env, last_number) VALUES ($1, $2, 1)
			ON CONFLICT (app, env) DO UPDATE SET last_number = revision_counters.last_number + 1
			RETURNING last_number
		)
		INSERT INTO revisions (app, env, number, version, spec, created_at)
		SELECT $1, $2, n.last_number, $3, $4, $5 FROM n
		RETURNING number`,
		rev.App, rev.Env, rev.Version, specJSON, tstz(rev.CreatedAt)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("create revision of %s/%s: %w", rev.App, rev.Env, err)
	}
	return n, nil
}
