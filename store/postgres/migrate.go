package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/gantry-dev/gantry/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

var migrations = mustLoadMigrations(migrationFiles)

// SchemaVersion is the schema version this build of gantry writes.
var SchemaVersion = len(migrations)

// ErrSchemaTooNew: the database was written by a newer gantry.
var ErrSchemaTooNew = sqlstore.ErrSchemaTooNew

// migrateLock is the advisory lock key held while migrating ("gantry" in ASCII).
const migrateLock = 0x67616e747279

func mustLoadMigrations(fsys embed.FS) []sqlstore.Migration {
	ms, err := sqlstore.LoadMigrations(fsys)
	if err != nil {
		panic(err)
	}
	return ms
}

// migrate brings the schema up to date in one transaction under an
// advisory lock, so two servers starting at once migrate one after the
// other.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
		return fmt.Errorf("migrate schema: lock: %w", err)
	}
	if err := sqlstore.Migrate(ctx, db{tx}, "gantry_schema_version", migrations); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate schema: commit: %w", err)
	}
	return nil
}
