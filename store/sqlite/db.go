package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/gantry-dev/gantry/store/sqlstore"
)

// dialect is SQLite's side of the shared statements.
var dialect = sqlstore.Dialect{
	Time:   micros,
	Active: "active = 1",
	ByName: "ORDER BY name",
	Duplicate: func(err error) bool {
		return strings.Contains(err.Error(), "UNIQUE constraint failed")
	},
}

// conn is a *sql.DB or a *sql.Tx.
type conn interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// db is sqlstore.DB over database/sql: reads on read, writes on write
// (the store's reader pool and its one writer connection, or one
// transaction for both).
type db struct{ read, write conn }

var _ sqlstore.DB = db{}

func (d db) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := d.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (d db) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return sqlRow{d.read.QueryRowContext(ctx, query, args...)}
}

func (d db) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := d.write.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d db) ExecRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return sqlRow{d.write.QueryRowContext(ctx, query, args...)}
}

// sqlRow scans sqlstore.ErrNoRows for sql.ErrNoRows.
type sqlRow struct{ row *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return sqlstore.ErrNoRows
	}
	return err
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

// scanner is a *sql.Row or *sql.Rows.
type scanner = sqlstore.Row

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	return sqlstore.Collect(sqlRows{rows}, scan)
}
