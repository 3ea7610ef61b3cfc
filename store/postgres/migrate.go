package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one step of gantry's schema: the SQL that takes it from
// Version-1 to Version.
type migration struct {
	Version int
	Name    string
	SQL     string
}

var migrations = mustLoadMigrations(migrationFiles)

// SchemaVersion is the schema version this build of gantry writes.
var SchemaVersion = len(migrations)

// ErrSchemaTooNew: the database was written by a newer gantry.
var ErrSchemaTooNew = errors.New("database schema is newer than this gantry")

// migrateLock is the advisory lock key held while migrating ("gantry" in ASCII).
const migrateLock = 0x67616e747279

func mustLoadMigrations(fsys fs.FS) []migration {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		panic(err)
	}
	var ms []migration
	for i, name := range names {
		base := path.Base(name)
		num, _, _ := strings.Cut(base, "_")
		if v, err := strconv.Atoi(num); err != nil || v != i+1 {
			panic(fmt.Sprintf("migration %s: want version %d as NNNN_description.sql", name, i+1))
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			panic(err)
		}
		ms = append(ms, migration{Version: i + 1, Name: base, SQL: string(b)})
	}
	return ms
}

func (s *Store) migrate(ctx context.Context) (err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
		return fmt.Errorf("migrate schema: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS gantry_schema_version (version integer NOT NULL)`); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	var current int
	switch err := tx.QueryRow(ctx, `SELECT version FROM gantry_schema_version`).Scan(&current); {
	case errors.Is(err, pgx.ErrNoRows):
		if _, err := tx.Exec(ctx, `INSERT INTO gantry_schema_version (version) VALUES (0)`); err != nil {
			return fmt.Errorf("migrate schema: %w", err)
		}
	case err != nil:
		return fmt.Errorf("migrate schema: read version: %w", err)
	}
	if current > len(migrations) {
		return fmt.Errorf("%w: it is at version %d, this gantry knows up to %d; upgrade gantry",
			ErrSchemaTooNew, current, len(migrations))
	}
	for _, m := range migrations[current:] {
		// Exec without arguments uses the simple protocol, which runs
		// every statement of the file.
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate schema to version %d (%s): %w", m.Version, m.Name, err)
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE gantry_schema_version SET version = $1`, len(migrations)); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate schema: commit: %w", err)
	}
	return nil
}
