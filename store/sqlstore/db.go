package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/rollout"
)

// Row is one result row to scan: *sql.Row, *sql.Rows, pgx.Row, pgx.Rows.
type Row interface {
	Scan(dest ...any) error
}

// Rows is a result set; the caller closes it.
type Rows interface {
	Row
	Next() bool
	Err() error
	Close()
}

// DB is what the shared logic needs of a driver's database. Statements
// use "?" placeholders; a driver whose database numbers them ("$1")
// rewrites them. A Row whose query found nothing scans ErrNoRows.
type DB interface {
	// Query runs a read.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a read of one row.
	QueryRow(ctx context.Context, query string, args ...any) Row
	// Exec runs a write and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// ExecRow runs a write that returns one row (RETURNING).
	ExecRow(ctx context.Context, query string, args ...any) Row
}

// ErrNoRows is what a Row of a DB scans when its query found no row.
var ErrNoRows = errors.New("no rows")

// Dialect is what differs in the SQL of the shared statements.
type Dialect struct {
	// Time encodes t for a time column, NULL (nil) for the zero time.
	Time func(t time.Time) any
	// Active is the condition that selects active rollouts, written as the
	// rollouts_active partial index's so the index applies.
	Active string
	// ByName orders apps by name, bytewise.
	ByName string
	// Duplicate reports whether err is a unique constraint's violation.
	Duplicate func(err error) bool
}

// Store is the part of every SQL store that is the same on every driver:
// it implements most of rollout.Store, auth.TokenStore and audit.Store
// over DB. A driver embeds it and adds what its database does
// differently (numbering revisions, serializing appends, migrations).
type Store struct {
	DB      DB
	Dialect Dialect
	// InsertRevision stores rev (its spec encoded as specJSON) with the
	// next number for its app and environment, never reused, and returns
	// that number.
	InsertRevision func(ctx context.Context, rev rollout.Revision, specJSON string) (int, error)
}

// Collect scans every row of rows with scan and closes rows.
func Collect[T any](rows Rows, scan func(Row) (T, error)) ([]T, error) {
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

// list runs a read and collects its rows; what names the list in errors.
func list[T any](ctx context.Context, db DB, what string, scan func(Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	out, err := Collect(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	return out, nil
}

// Time is a scan destination for a time column: it reads microseconds
// since the Unix epoch (SQLite's INTEGER), a time.Time (PostgreSQL's
// timestamptz) or NULL (the zero time), into *T in UTC.
type Time struct{ T *time.Time }

// Scan implements sql.Scanner.
func (d Time) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.T = time.Time{}
	case int64:
		*d.T = time.UnixMicro(v).UTC()
	case time.Time:
		*d.T = v.UTC()
	default:
		return fmt.Errorf("time column: unexpected %T", src)
	}
	return nil
}

// StoredTime returns t as a read gives it back: truncated to the
// microsecond, in UTC.
func StoredTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Truncate(time.Microsecond).UTC()
}

// filter collects a query's conditions and their arguments.
type filter struct {
	conds []string
	args  []any
}

// add appends a condition whose "?" stands for v.
func (f *filter) add(cond string, v any) {
	f.conds, f.args = append(f.conds, cond), append(f.args, v)
}

// addIf is add when v is not its type's zero value.
func addIf[T comparable](f *filter, cond string, v T) {
	var zero T
	if v != zero {
		f.add(cond, v)
	}
}

// where joins the conditions into a WHERE clause; "" for none.
func (f *filter) where() string {
	if len(f.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(f.conds, " AND ")
}
