package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gantry-dev/gantry/store/sqlstore"
)

// dialect is PostgreSQL's side of the shared statements.
var dialect = sqlstore.Dialect{
	Time:   tstz,
	Active: "active",
	ByName: `ORDER BY name COLLATE "C"`,
	Duplicate: func(err error) bool {
		var pgErr *pgconn.PgError
		return errors.As(err, &pgErr) && pgErr.Code == "23505" // unique_violation
	},
}

// conn is a *pgxpool.Pool or a pgx.Tx.
type conn interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// db is sqlstore.DB over pgx; it numbers the shared statements' "?"
// placeholders.
type db struct{ c conn }

var _ sqlstore.DB = db{}

func (d db) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return d.c.Query(ctx, numbered(query), args...)
}

func (d db) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return pgRow{d.c.QueryRow(ctx, numbered(query), args...)}
}

func (d db) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if len(args) > 0 { // without arguments (a migration file) it runs as it is
		query = numbered(query)
	}
	tag, err := d.c.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

func (d db) ExecRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return d.QueryRow(ctx, query, args...)
}

// pgRow scans sqlstore.ErrNoRows for pgx.ErrNoRows.
type pgRow struct{ row pgx.Row }

func (r pgRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sqlstore.ErrNoRows
	}
	return err
}

// numbered replaces each "?" of query with $1, $2, … (the shared
// statements have no other question marks).
func numbered(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
