package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/dbbackup"
	"github.com/gantry-dev/gantry/migrate"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
	"github.com/jackc/pgx/v5"
)

// appDatabases is the rollout.DatabaseMigrator of the embedded default:
// migrations with package migrate, backups with package dbbackup, one
// backup store per app and environment.
type appDatabases struct {
	// dataDir holds the default backup stores (<data>/backups/<app>/<env>).
	dataDir string
	// baseDir resolves relative migrations, backupDir and url.file paths.
	baseDir string
	logf    func(string, ...any)
}

var _ rollout.DatabaseMigrator = (*appDatabases)(nil)

// errNoDatabase marks an app environment without spec.database.
var errNoDatabase = errors.New("no database configured")

// appDB is one environment's database, resolved.
type appDB struct {
	url        string
	migrations string
	backups    *dbbackup.Store
	policy     spec.MigrationFailurePolicy
}

// resolve reads s's database section: the URL from its source, the
// directories made absolute.
func (d *appDatabases) resolve(app, env string, s spec.AppSpec) (appDB, error) {
	db := s.Database
	if db == nil {
		return appDB{}, fmt.Errorf("%w for %s in %s: add spec.database to gantry.yaml and apply it", errNoDatabase, app, env)
	}
	url, err := db.URL.Resolve("spec.database.url", d.baseDir)
	if err != nil {
		return appDB{}, err
	}
	dir := d.path(db.MigrationsDir())
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return appDB{}, fmt.Errorf("migrations directory %s (spec.database.migrations %q) does not exist: create it or fix the path, which is relative to %s",
			dir, db.MigrationsDir(), d.base())
	}
	backupDir := filepath.Join(d.dataDir, "backups", app, env)
	if db.BackupDir != "" {
		backupDir = d.path(db.BackupDir)
	}
	store, err := dbbackup.Open(backupDir)
	if err != nil {
		return appDB{}, err
	}
	return appDB{url: url, migrations: dir, backups: store, policy: db.Policy()}, nil
}

func (d *appDatabases) base() string {
	if d.baseDir != "" {
		return d.baseDir
	}
	wd, _ := os.Getwd()
	return wd
}

func (d *appDatabases) path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(d.base(), p)
}

// migrator opens a migrate.Migrator on db.
func (d *appDatabases) migrator(ctx context.Context, db appDB) (*migrate.Migrator, error) {
	m, err := migrate.Open(ctx, migrate.Options{URL: db.url, Locations: []string{db.migrations}, Logf: d.logf})
	return m, migrate.Redact(err, db.url)
}

// Backup implements rollout.DatabaseMigrator.
func (d *appDatabases) Backup(ctx context.Context, rev rollout.Revision, appRevision int) (rollout.DatabaseBackup, error) {
	db, err := d.resolve(rev.App, rev.Env, rev.Spec)
	if err != nil {
		return rollout.DatabaseBackup{}, err
	}
	m, err := db.backups.Backup(ctx, db.url, dbbackup.BackupOptions{AppRevision: appRevisionLabel(appRevision)})
	if err != nil {
		return rollout.DatabaseBackup{}, migrate.Redact(err, db.url)
	}
	return rollout.DatabaseBackup{ID: m.ID, SizeBytes: m.SizeBytes, Duration: m.Duration(), SchemaVersion: m.SchemaVersion}, nil
}

// appRevisionLabel is what a backup's manifest records as its app
// revision; revisionOf reads it back.
func appRevisionLabel(n int) string { return fmt.Sprintf("revision %d", n) }

func revisionOf(m *dbbackup.Manifest) (int, bool) {
	var n int
	if _, err := fmt.Sscanf(m.AppRevision, "revision %d", &n); err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// Migrate implements rollout.DatabaseMigrator: migrate, then validate.
func (d *appDatabases) Migrate(ctx context.Context, rev rollout.Revision) (rollout.DatabaseMigration, error) {
	db, err := d.resolve(rev.App, rev.Env, rev.Spec)
	if err != nil {
		return rollout.DatabaseMigration{}, err
	}
	m, err := d.migrator(ctx, db)
	if err != nil {
		return rollout.DatabaseMigration{}, err
	}
	defer m.Close(context.WithoutCancel(ctx))
	start := time.Now()
	res, err := m.Migrate(ctx, migrate.PlanOptions{})
	out := rollout.DatabaseMigration{Duration: time.Since(start)}
	if res != nil {
		out.From, out.To = res.From.String(), res.To.String()
		for _, r := range res.Applied {
			out.Scripts = append(out.Scripts, r.Script.Name)
		}
	}
	if err != nil {
		return out, migrate.Redact(err, db.url)
	}
	if _, err := m.Validate(ctx, migrate.ValidateOptions{}); err != nil {
		return out, fmt.Errorf("validate after migrating: %w", migrate.Redact(err, db.url))
	}
	return out, nil
}

// Undo implements rollout.DatabaseMigrator.
func (d *appDatabases) Undo(ctx context.Context, rev rollout.Revision, toVersion string) (rollout.DatabaseMigration, error) {
	db, err := d.resolve(rev.App, rev.Env, rev.Spec)
	if err != nil {
		return rollout.DatabaseMigration{}, err
	}
	opts := migrate.UndoOptions{}
	if toVersion == "" {
		opts.Count = 1 << 20
	} else if opts.Target, err = migrate.ParseVersion(toVersion); err != nil {
		return rollout.DatabaseMigration{}, err
	}
	m, err := d.migrator(ctx, db)
	if err != nil {
		return rollout.DatabaseMigration{}, err
	}
	defer m.Close(context.WithoutCancel(ctx))
	start := time.Now()
	res, err := m.Undo(ctx, opts)
	out := rollout.DatabaseMigration{Duration: time.Since(start)}
	if res != nil {
		out.From, out.To = res.From.String(), res.To.String()
		for _, r := range res.Undone {
			out.Scripts = append(out.Scripts, r.Script.Name)
		}
	}
	return out, migrate.Redact(err, db.url)
}

// Restore implements rollout.DatabaseMigrator: pg_restore of the backup,
// then the tables created since the backup (which pg_restore leaves in
// place) are dropped, so the database is the backed-up one.
func (d *appDatabases) Restore(ctx context.Context, rev rollout.Revision, id string) (rollout.DatabaseRestore, error) {
	db, err := d.resolve(rev.App, rev.Env, rev.Spec)
	if err != nil {
		return rollout.DatabaseRestore{}, err
	}
	return d.restore(ctx, db, id)
}

func (d *appDatabases) restore(ctx context.Context, db appDB, id string) (rollout.DatabaseRestore, error) {
	res, err := db.backups.Restore(ctx, id, db.url)
	if err != nil {
		return rollout.DatabaseRestore{}, migrate.Redact(err, db.url)
	}
	out := rollout.DatabaseRestore{BackupID: id, SchemaVersion: res.Manifest.SchemaVersion, Duration: res.Duration}
	if err := dropNewTables(ctx, db.url, res.Manifest.TableRows); err != nil {
		return out, migrate.Redact(fmt.Errorf("restored backup %s, but: %w", id, err), db.url)
	}
	return out, nil
}

// dropNewTables drops every ordinary table that the backup did not hold
// (keep is its manifest's table list, "schema.table"), in one transaction.
func dropNewTables(ctx context.Context, url string, keep map[string]int64) error {
	conn, err := migrate.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT n.nspname, c.relname FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'`)
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	var drop []string
	for rows.Next() {
		var schema, name string
		if err := rows.Scan(&schema, &name); err != nil {
			rows.Close()
			return fmt.Errorf("list tables: %w", err)
		}
		if _, ok := keep[schema+"."+name]; !ok {
			drop = append(drop, pgx.Identifier{schema, name}.Sanitize())
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(drop) == 0 {
		return err
	}
	if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+strings.Join(drop, ", ")+" CASCADE"); err != nil {
		return fmt.Errorf("drop tables created after the backup (%s): %w", strings.Join(drop, ", "), err)
	}
	return nil
}

// Status implements rollout.DatabaseMigrator.
func (d *appDatabases) Status(ctx context.Context, rev rollout.Revision) (rollout.SchemaStatus, error) {
	db, err := d.resolve(rev.App, rev.Env, rev.Spec)
	if err != nil {
		return rollout.SchemaStatus{}, err
	}
	m, err := d.migrator(ctx, db)
	if err != nil {
		return rollout.SchemaStatus{}, err
	}
	defer m.Close(context.WithoutCancel(ctx))
	info, err := m.Validate(ctx, migrate.ValidateOptions{})
	var verr *migrate.ValidationError
	switch {
	case errors.As(err, &verr):
		return rollout.SchemaStatus{Current: info.Current.String(), Detail: verr.Error()}, nil
	case err != nil:
		return rollout.SchemaStatus{}, migrate.Redact(err, db.url)
	}
	return rollout.SchemaStatus{Current: info.Current.String(), UpToDate: true}, nil
}
