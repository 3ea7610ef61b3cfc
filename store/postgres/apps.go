package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-dev/gantry/rollout"
)

// PutApp creates or replaces an app's applied spec.
func (s *Store) PutApp(ctx context.Context, a rollout.AppRecord) error {
	spec, err := json.Marshal(a.Spec)
	if err != nil {
		return fmt.Errorf("put app %s: encode spec: %w", a.Name, err)
	}
	_, err = s.pool.Exec(ctx, `
		INSERT INTO apps (name, spec, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at`,
		a.Name, string(spec), tstz(a.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put app %s: %w", a.Name, err)
	}
	return nil
}

// GetApp returns the app's applied spec, or rollout.ErrNotFound.
func (s *Store) GetApp(ctx context.Context, name string) (rollout.AppRecord, error) {
	a, err := scanApp(s.pool.QueryRow(ctx, `SELECT name, spec, updated_at FROM apps WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return rollout.AppRecord{}, fmt.Errorf("app %s: %w", name, rollout.ErrNotFound)
	}
	if err != nil {
		return rollout.AppRecord{}, fmt.Errorf("get app %s: %w", name, err)
	}
	return a, nil
}

// ListApps returns every app, ordered by name.
func (s *Store) ListApps(ctx context.Context) ([]rollout.AppRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, spec, updated_at FROM apps ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	apps, err := collect(rows, scanApp)
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	return apps, nil
}

func scanApp(row pgx.Row) (rollout.AppRecord, error) {
	var (
		a       rollout.AppRecord
		spec    []byte
		updated *time.Time
	)
	if err := row.Scan(&a.Name, &spec, &updated); err != nil {
		return a, err
	}
	if err := json.Unmarshal(spec, &a.Spec); err != nil {
		return a, fmt.Errorf("decode spec of app %s: %w", a.Name, err)
	}
	a.UpdatedAt = timeOf(updated)
	return a, nil
}
