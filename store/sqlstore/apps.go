package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gantry-dev/gantry/rollout"
)

// PutApp creates or replaces an app's applied spec.
func (s *Store) PutApp(ctx context.Context, a rollout.AppRecord) error {
	spec, err := json.Marshal(a.Spec)
	if err != nil {
		return fmt.Errorf("put app %s: encode spec: %w", a.Name, err)
	}
	_, err = s.DB.Exec(ctx, `
		INSERT INTO apps (name, spec, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at`,
		a.Name, string(spec), s.Dialect.Time(a.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put app %s: %w", a.Name, err)
	}
	return nil
}

// GetApp returns the app's applied spec, or rollout.ErrNotFound.
func (s *Store) GetApp(ctx context.Context, name string) (rollout.AppRecord, error) {
	a, err := scanApp(s.DB.QueryRow(ctx, `SELECT name, spec, updated_at FROM apps WHERE name = ?`, name))
	if errors.Is(err, ErrNoRows) {
		return rollout.AppRecord{}, fmt.Errorf("app %s: %w", name, rollout.ErrNotFound)
	}
	if err != nil {
		return rollout.AppRecord{}, fmt.Errorf("get app %s: %w", name, err)
	}
	return a, nil
}

// ListApps returns every app, ordered by name.
func (s *Store) ListApps(ctx context.Context) ([]rollout.AppRecord, error) {
	return list(ctx, s.DB, "apps", scanApp, `SELECT name, spec, updated_at FROM apps `+s.Dialect.ByName)
}

func scanApp(row Row) (rollout.AppRecord, error) {
	var (
		a    rollout.AppRecord
		spec []byte
	)
	if err := row.Scan(&a.Name, &spec, Time{&a.UpdatedAt}); err != nil {
		return a, err
	}
	if err := json.Unmarshal(spec, &a.Spec); err != nil {
		return a, fmt.Errorf("decode spec of app %s: %w", a.Name, err)
	}
	return a, nil
}
