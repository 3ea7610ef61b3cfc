package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// Migration is one step of a store's schema: the SQL that takes it from
// Version-1 to Version.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// LoadMigrations reads fsys's migrations/NNNN_description.sql files in
// order; their numbers must run 1, 2, 3… without gaps.
func LoadMigrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []Migration
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
		ms = append(ms, Migration{Version: v, Name: base, SQL: string(b)})
	}
	return ms, nil
}

// ErrSchemaTooNew: the database was written by a newer gantry.
var ErrSchemaTooNew = errors.New("database schema is newer than this gantry")

// Migrate brings the schema up to date within tx, the driver's
// transaction (holding whatever lock keeps two servers from migrating at
// once): it reads the version from table (creating it at 0), refuses a
// version newer than ms, and runs the rest of ms in order. Each file runs
// as one Exec without arguments, so it may hold many statements.
func Migrate(ctx context.Context, tx DB, table string, ms []Migration) error {
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (version integer NOT NULL)`); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	var current int
	switch err := tx.ExecRow(ctx, `SELECT version FROM `+table).Scan(&current); {
	case errors.Is(err, ErrNoRows):
		if _, err := tx.Exec(ctx, `INSERT INTO `+table+` (version) VALUES (0)`); err != nil {
			return fmt.Errorf("migrate schema: %w", err)
		}
	case err != nil:
		return fmt.Errorf("migrate schema: read version: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("%w: it is at version %d, this gantry knows up to %d; upgrade gantry (or open a copy made before the upgrade)",
			ErrSchemaTooNew, current, len(ms))
	}
	for _, m := range ms[current:] {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate schema to version %d (%s): %w", m.Version, m.Name, err)
		}
	}
	if current < len(ms) {
		if _, err := tx.Exec(ctx, `UPDATE `+table+` SET version = ?`, len(ms)); err != nil {
			return fmt.Errorf("migrate schema: %w", err)
		}
	}
	return nil
}
