package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// CreateRevision stores rev with the next number for its app and
// environment (InsertRevision); numbers are never reused.
func (s *Store) CreateRevision(ctx context.Context, rev rollout.Revision) (rollout.Revision, error) {
	b, err := json.Marshal(rev.Spec)
	if err != nil {
		return rollout.Revision{}, fmt.Errorf("create revision of %s/%s: encode spec: %w", rev.App, rev.Env, err)
	}
	if rev.Number, err = s.InsertRevision(ctx, rev, string(b)); err != nil {
		return rollout.Revision{}, err
	}
	// Hand back what a read would return.
	rev.Spec = spec.AppSpec{}
	if err := json.Unmarshal(b, &rev.Spec); err != nil {
		return rollout.Revision{}, fmt.Errorf("create revision %d of %s/%s: %w", rev.Number, rev.App, rev.Env, err)
	}
	rev.CreatedAt = StoredTime(rev.CreatedAt)
	return rev, nil
}

// GetRevision returns one revision, or rollout.ErrNotFound.
func (s *Store) GetRevision(ctx context.Context, app, env string, number int) (rollout.Revision, error) {
	rev, err := scanRevision(s.DB.QueryRow(ctx, `
		SELECT app, env, number, version, spec, created_at FROM revisions
		WHERE app = ? AND env = ? AND number = ?`, app, env, number))
	if errors.Is(err, ErrNoRows) {
		return rollout.Revision{}, fmt.Errorf("revision %d of %s/%s: %w", number, app, env, rollout.ErrNotFound)
	}
	if err != nil {
		return rollout.Revision{}, fmt.Errorf("get revision %d of %s/%s: %w", number, app, env, err)
	}
	return rev, nil
}

// ListRevisions returns an app's revisions in an environment, oldest first.
func (s *Store) ListRevisions(ctx context.Context, app, env string) ([]rollout.Revision, error) {
	return list(ctx, s.DB, fmt.Sprintf("revisions of %s/%s", app, env), scanRevision, `
		SELECT app, env, number, version, spec, created_at FROM revisions
		WHERE app = ? AND env = ? ORDER BY number`, app, env)
}

// DeleteRevision removes a revision, or returns rollout.ErrNotFound.
func (s *Store) DeleteRevision(ctx context.Context, app, env string, number int) error {
	n, err := s.DB.Exec(ctx, `DELETE FROM revisions WHERE app = ? AND env = ? AND number = ?`, app, env, number)
	if err != nil {
		return fmt.Errorf("delete revision %d of %s/%s: %w", number, app, env, err)
	}
	if n == 0 {
		return fmt.Errorf("revision %d of %s/%s: %w", number, app, env, rollout.ErrNotFound)
	}
	return nil
}

func scanRevision(row Row) (rollout.Revision, error) {
	var (
		r  rollout.Revision
		js []byte
	)
	if err := row.Scan(&r.App, &r.Env, &r.Number, &r.Version, &js, Time{&r.CreatedAt}); err != nil {
		return r, err
	}
	if err := json.Unmarshal(js, &r.Spec); err != nil {
		return r, fmt.Errorf("decode spec of revision %d of %s/%s: %w", r.Number, r.App, r.Env, err)
	}
	return r, nil
}
