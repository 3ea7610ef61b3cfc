package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options configure a Migrator.
type Options struct {
	// URL is the database: a postgres:// URL or key=value string. The
	// password may instead come from PGPASSWORD or a password file. Required.
	URL string
	// Locations are the directories searched (recursively) for *.sql
	// migrations. Empty: DefaultLocation.
	Locations []string
	// Table is the schema history table. Empty: DefaultTable.
	Table string
	// Schema holds the history table. Empty: the connection's current schema
	// (normally public).
	Schema string
	// InstalledBy is recorded in installed_by. Empty: the database user.
	InstalledBy string
	// Logf, when not nil, receives one line per step ("Migrating to 2 - add users").
	Logf func(format string, args ...any)
}

// DefaultLocation is where migrations are looked for when Options.Locations is empty.
const DefaultLocation = "migrations"

// Migrator applies migrations to one database. It holds one connection;
// it is not safe for concurrent use (open one Migrator per goroutine: the
// database lock serialises them).
type Migrator struct {
	conn  *pgx.Conn
	set   *Set
	table table
	opts  Options
}

// Open reads the migrations and connects. It fails before connecting when
// a file name is malformed or two files share a version.
func Open(ctx context.Context, opts Options) (*Migrator, error) {
	if len(opts.Locations) == 0 {
		opts.Locations = []string{DefaultLocation}
	}
	if opts.Table == "" {
		opts.Table = DefaultTable
	}
	set, err := Load(opts.Locations)
	if err != nil {
		return nil, err
	}
	conn, err := Connect(ctx, opts.URL)
	if err != nil {
		return nil, err
	}
	schema := opts.Schema
	if schema == "" {
		var cur *string
		if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&cur); err != nil {
			conn.Close(ctx)
			return nil, fmt.Errorf("read current schema: %w", err)
		}
		if cur == nil {
			conn.Close(ctx)
			return nil, errors.New("the connection has no current schema (search_path names no existing schema); set the schema explicitly")
		}
		schema = *cur
	}
	return &Migrator{conn: conn, set: set, table: table{schema: schema, name: opts.Table}, opts: opts}, nil
}

// Close closes the connection.
func (m *Migrator) Close(ctx context.Context) error { return m.conn.Close(ctx) }

// Scripts returns the migrations found in the locations.
func (m *Migrator) Scripts() *Set { return m.set }

// Table returns the schema-qualified, quoted history table name.
func (m *Migrator) Table() string { return m.table.String() }

func (m *Migrator) logf(format string, args ...any) {
	if m.opts.Logf != nil {
		m.opts.Logf(format, args...)
	}
}

// withLock runs fn holding the session advisory lock of the history table,
// so that two migrators (gantry's or Flyway's) never work at once; a second
// one waits until the first is done or ctx ends.
func (m *Migrator) withLock(ctx context.Context, fn func() error) error {
	k := m.table.lockKey()
	if _, err := m.conn.Exec(ctx, "SELECT pg_advisory_lock($1)", k); err != nil {
		return fmt.Errorf("take the migration lock on %s: %w", m.table, err)
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// If this fails the connection is gone, and the lock with it.
		_, _ = m.conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", k)
	}()
	return fn()
}

// Info reads the history and returns the state of every migration.
func (m *Migrator) Info(ctx context.Context, opts PlanOptions) (*Info, error) {
	rows, err := m.table.read(ctx, m.conn)
	if err != nil {
		return nil, err
	}
	return Plan(m.set, rows, opts), nil
}

// ErrValidation is wrapped by a *ValidationError.
var ErrValidation = errors.New("migrations do not match the schema history")

// ValidationError lists what Validate (or Migrate's check before it runs)
// found wrong.
type ValidationError struct {
	Table    string
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v (%s): %d problem(s):", ErrValidation, e.Table, len(e.Problems))
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  - %s: %s", p.Kind, p.Message)
	}
	return b.String()
}

// Unwrap returns ErrValidation.
func (e *ValidationError) Unwrap() error { return ErrValidation }

// Has reports whether one of the problems is of kind k.
func (e *ValidationError) Has(k ProblemKind) bool {
	for _, p := range e.Problems {
		if p.Kind == k {
			return true
		}
	}
	return false
}

// ValidateOptions tune Validate.
type ValidateOptions struct {
	PlanOptions
	// IgnorePending accepts migrations not yet applied. False (as Flyway):
	// pending migrations are problems.
	IgnorePending bool
}

// Validate checks the local migrations against the history: edited
// applied files (checksum mismatch), renamed applied files (description
// mismatch, as Flyway), applied files gone, failed migrations,
// never-applied migrations older than the current version (unless
// OutOfOrder), pending migrations (unless IgnorePending) and, with
// FailOnGaps, version gaps. It returns the Info, and a *ValidationError when
// anything is wrong.
func (m *Migrator) Validate(ctx context.Context, opts ValidateOptions) (*Info, error) {
	info, err := m.Info(ctx, opts.PlanOptions)
	if err != nil {
		return nil, err
	}
	var probs []Problem
	for _, p := range info.Problems {
		if p.Kind == NotApplied && opts.IgnorePending {
			continue
		}
		probs = append(probs, p)
	}
	if len(probs) > 0 {
		return info, &ValidationError{Table: m.table.String(), Problems: probs}
	}
	return info, nil
}
