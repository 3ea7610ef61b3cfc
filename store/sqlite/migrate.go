package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/gantry-dev/gantry/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one step of gantry's schema.
type migration = sqlstore.Migration

// migrations are the schema's steps in order, read from migrations/NNNN_name.sql.
var migrations = mustLoadMigrations(migrationFiles)

// SchemaVersion is the schema version this build of gantry writes.
var SchemaVersion = len(migrations)

var loadMigrations = sqlstore.LoadMigrations

func mustLoadMigrations(fsys embed.FS) []migration {
	ms, err := loadMigrations(fsys)
	if err != nil {
		panic(err)
	}
	return ms
}

// ErrSchemaTooNew: the database was written by a newer gantry.
var ErrSchemaTooNew = sqlstore.ErrSchemaTooNew

// migrate brings the schema up to date in one transaction, so a crash
// leaves it at the old version or the new one, never between.
func (s *Store) migrate(ctx context.Context) error {
	return applyMigrations(ctx, s.writer, migrations)
}

// applyMigrations runs ms in one transaction begun IMMEDIATE (see
// _txlock), which holds SQLite's write lock against other processes.
func applyMigrations(ctx context.Context, d *sql.DB, ms []migration) error {
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	defer tx.Rollback()
	if err := sqlstore.Migrate(ctx, db{read: tx, write: tx}, "schema_version", ms); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate schema: commit: %w", err)
	}
	return nil
}
