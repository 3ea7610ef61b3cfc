package sqlite

import (
	"context"
	"fmt"

	"github.com/gantry-dev/gantry/rollout"
)

// insertRevision numbers and stores rev in one transaction: the counter
// row, then the revision (sqlstore.Store.InsertRevision).
func (s *Store) insertRevision(ctx context.Context, rev rollout.Revision, specJSON string) (int, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("create revision of %s/%s: %w", rev.App, rev.Env, err)
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, `
		INSERT INTO revision_counters (app, env, last_number) VALUES (?, ?, 1)
		ON CONFLICT (app, env) DO UPDATE SET last_number = last_number + 1
		RETURNING last_number`, rev.App, rev.Env).Scan(&rev.Number)
	if err != nil {
		return 0, fmt.Errorf("create revision of %s/%s: number it: %w", rev.App, rev.Env, err)
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO revisions (app, env, number, version, spec, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		rev.App, rev.Env, rev.Number, rev.Version, specJSON, micros(rev.CreatedAt))
	if err != nil {
		return 0, fmt.Errorf("create revision %d of %s/%s: %w", rev.Number, rev.App, rev.Env, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("create revision %d of %s/%s: commit: %w", rev.Number, rev.App, rev.Env, err)
	}
	return rev.Number, nil
}
