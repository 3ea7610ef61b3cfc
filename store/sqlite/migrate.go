package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one step of gantry's schema: the SQL that takes the schema
// from Version-1 to Version.
type migration struct {
	Version int
	Name    string
	SQL     string
}

// migrations are the schema's steps in order, read from migrations/NNNN_name.sql;
// their numbers run 1, 2, 3… without gaps.
var migrations = mustLoadMigrations(migrationFiles)

// SchemaVersion is the schema version this build of gantry writes.
var SchemaVersion = len(migrations)

func mustLoadMigrations(fsys fs.FS) []migration {
	ms, err := loadMigrations(fsys)
	if err != nil {
		panic(err)
	}
	return ms
}

func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for i, name := range names { // fs.Glob returns names sorted
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", name)
		}
		if v != i+1 {
			return nil, fmt.Errorf("migration %s: version %d, want %d (versions run from 1 without gaps)", name, v, i+1)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{Version: v, Name: base, SQL: string(b)})
	}
	return ms, nil
}

// ErrSchemaTooNew: the database was written by a newer gantry.
var ErrSchemaTooNew = errors.New("database schema is newer than this gantry")

// migrate brings the schema up to date in one transaction, so a crash
// leaves it at the old version or the new one, never between.
func (s *Store) migrate(ctx context.Context) error {
	return applyMigrations(ctx, s.writer, migrations)
}

func applyMigrations(ctx context.Context, db *sql.DB, ms []migration) (err error) {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: see _txlock
	if err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT`); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	var current int
	switch err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&current); {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return fmt.Errorf("migrate schema: %w", err)
		}
	case err != nil:
		return fmt.Errorf("migrate schema: read version: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("%w: it is at version %d, this gantry knows up to %d; upgrade gantry (or open a copy made before the upgrade)",
			ErrSchemaTooNew, current, len(ms))
	}
	if current == len(ms) {
		return tx.Rollback()
	}
	for _, m := range ms[current:] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate schema to version %d (%s): %w", m.Version, m.Name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, len(ms)); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate schema: commit: %w", err)
	}
	return nil
}
