package spec

import (
	"errors"
	"fmt"
	"strings"
)

// Database is the PostgreSQL database an app owns. When it is set, every
// rollout backs the database up, applies the app's migrations and
// validates them before it starts the new revision; a failed migration
// rolls the rollout back and the database with it.
type Database struct {
	// URL is where the database is: a postgres:// URL or key=value string,
	// given as exactly one of value, fromEnv or file. Required. gantry
	// never prints it.
	URL SecretSource `json:"url"`
	// Migrations is the directory of Flyway-style V/U/R migration files,
	// relative to the directory gantry resolves workload paths against.
	// Default "migrations".
	Migrations string `json:"migrations,omitempty"`
	// BackupDir holds the backups taken before each migration and by the
	// daily schedule, relative like Migrations. Empty: <data>/backups/<app>/<env>.
	BackupDir string `json:"backupDir,omitempty"`
	// OnFailure is what a failed migration does to the database:
	// restore (the backup taken just before, the default) or undo (run the
	// U files of what this rollout applied, falling back to restore).
	OnFailure MigrationFailurePolicy `json:"onFailure,omitempty"`
}

// SecretSource is a secret given as exactly one of a literal value, an
// environment variable of the gantry server, or a file.
type SecretSource struct {
	// Value is the secret itself; prefer fromEnv or file, which keep it out
	// of gantry.yaml and of gantry's state.
	Value string `json:"value,omitempty"`
	// FromEnv names an environment variable of the gantry server.
	FromEnv string `json:"fromEnv,omitempty"`
	// File is a file holding the secret (surrounding whitespace trimmed).
	File string `json:"file,omitempty"`
	// ValueFrom is the reference form workload env vars use:
	// {secretFile: ...} or {serverEnv: ...}.
	ValueFrom *ValueFrom `json:"valueFrom,omitempty"`
}

// MigrationFailurePolicy says how a failed migration is reversed.
type MigrationFailurePolicy string

// Migration failure policies.
const (
	// OnFailureRestore restores the backup taken before the migration.
	OnFailureRestore MigrationFailurePolicy = "restore"
	// OnFailureUndo runs the undo (U) files of the migrations this rollout
	// applied; when one is missing or fails, it restores the backup.
	OnFailureUndo MigrationFailurePolicy = "undo"
)

// MigrationFailurePolicies lists the accepted values of onFailure.
var MigrationFailurePolicies = []string{string(OnFailureRestore), string(OnFailureUndo)}

// DefaultMigrations is the migrations directory when none is given.
const DefaultMigrations = "migrations"

// Policy returns OnFailure, or OnFailureRestore when it is empty.
func (d *Database) Policy() MigrationFailurePolicy {
	if d == nil || d.OnFailure == "" {
		return OnFailureRestore
	}
	return d.OnFailure
}

// MigrationsDir returns Migrations, or DefaultMigrations when it is empty.
func (d *Database) MigrationsDir() string {
	if d == nil || d.Migrations == "" {
		return DefaultMigrations
	}
	return d.Migrations
}

// ErrNoSecret is wrapped by Resolve when the secret's source is empty or missing.
var ErrNoSecret = errors.New("secret not available")

// Resolve returns the secret: the value, the environment variable's value
// or the file's content, trimmed. field names the source in errors (such
// as "spec.database.url"); the secret never appears in them.
func (s SecretSource) Resolve(field, baseDir string) (string, error) {
	switch {
	case s.Value != "":
		return s.Value, nil
	case s.FromEnv != "":
		return serverEnv(field+".fromEnv", s.FromEnv)
	case s.File != "":
		return secretFile(field+".file", s.File, baseDir)
	case s.ValueFrom != nil:
		return s.ValueFrom.Resolve(field, baseDir)
	}
	return "", fmt.Errorf("%w: %s sets none of value, fromEnv, file or valueFrom", ErrNoSecret, field)
}

func (d *Database) clone() *Database {
	if d == nil {
		return nil
	}
	c := *d
	return &c
}

// merge returns d with the fields o sets replacing d's; the URL is
// replaced as a whole.
func (d *Database) merge(o *Database) *Database {
	if o == nil {
		return d.clone()
	}
	if d == nil {
		return o.clone()
	}
	c := *d
	if o.URL != (SecretSource{}) {
		c.URL = o.URL
	}
	if o.Migrations != "" {
		c.Migrations = o.Migrations
	}
	if o.BackupDir != "" {
		c.BackupDir = o.BackupDir
	}
	if o.OnFailure != "" {
		c.OnFailure = o.OnFailure
	}
	return &c
}

// database checks a database section; resolved is false for an
// environment's override, whose URL may come from the base spec.
func (v *validator) database(path string, d *Database, resolved bool) {
	if d == nil {
		return
	}
	urlPath := joinField(path, "url")
	set := 0
	for _, s := range []string{d.URL.Value, d.URL.FromEnv, d.URL.File} {
		if s != "" {
			set++
		}
	}
	if d.URL.ValueFrom != nil {
		set++
		v.valueFrom(joinField(urlPath, "valueFrom"), d.URL.ValueFrom)
	}
	switch {
	case set == 0 && resolved:
		v.add(urlPath, "required; add url: {valueFrom: {serverEnv: DATABASE_URL}} (or {valueFrom: {secretFile: /run/secrets/db-url}}, or {value: postgres://...})")
	case set > 1:
		v.add(urlPath, "sets %d of value, fromEnv, file and valueFrom; keep exactly one", set)
	}
	if d.URL.Value != "" && !strings.HasPrefix(d.URL.Value, "postgres://") && !strings.HasPrefix(d.URL.Value, "postgresql://") && !strings.Contains(d.URL.Value, "=") {
		v.add(joinField(urlPath, "value"), "is not a PostgreSQL connection string; use postgres://user@host:5432/dbname or host=... dbname=...")
	}
	if e := d.URL.FromEnv; e != "" && !envVarName.MatchString(e) {
		v.add(joinField(urlPath, "fromEnv"), "%q is not an environment variable name; use letters, digits and '_', such as DATABASE_URL", e)
	}
	switch d.OnFailure {
	case "", OnFailureRestore, OnFailureUndo:
	default:
		msg := fmt.Sprintf("%q is not a failure policy", d.OnFailure)
		if c, ok := closest(string(d.OnFailure), MigrationFailurePolicies); ok {
			msg += fmt.Sprintf("; did you mean %s?", c)
		} else {
			msg += "; use restore (the default) or undo"
		}
		v.add(joinField(path, "onFailure"), "%s", msg)
	}
}
