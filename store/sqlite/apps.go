package sqlite

import (
	"context"
	"database/sql"
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
	_, err = s.writer.ExecContext(ctx, `
		INSERT INTO apps (name, spec, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at`,
		a.Name, string(spec), micros(a.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put app %s: %w", a.Name, err)
	}
	return nil
}

// GetApp returns the app's applied spec, or rollout.ErrNotFound.
func (s *Store) GetApp(ctx context.Context, name string) (rollout.AppRecord, error) {
	row := s.reader.QueryRowContext(ctx, `SELECT name, spec, updated_at FROM apps WHERE name = ?`, name)
	a, err := scanApp(row)
	if errors.Is(err, sql.ErrNoRows) {
		return rollout.AppRecord{}, fmt.Errorf("app %s: %w", name, rollout.ErrNotFound)
	}
	if err != nil {
		return rollout.AppRecord{}, fmt.Errorf("get app %s: %w", name, err)
	}
	return a, nil
}

// ListApps returns every app, ordered by name.
func (s *Store) ListApps(ctx context.Context) ([]rollout.AppRecord, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT name, spec, updated_at FROM apps ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	apps, err := collect(rows, scanApp)
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	return apps, nil
}

func scanApp(row scanner) (rollout.AppRecord, error) {
	var (
		a       rollout.AppRecord
		spec    []byte
		updated sql.NullInt64
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

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
