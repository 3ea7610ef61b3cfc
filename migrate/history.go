package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultTable is the schema history table's name: Flyway's, so a database
// migrated by Flyway keeps its history.
const DefaultTable = "flyway_schema_history"

// Row types of the history table, as Flyway writes them.
const (
	TypeSQL      = "SQL"      // a versioned or repeatable SQL migration
	TypeBaseline = "BASELINE" // the marker Baseline inserts
	TypeUndoSQL  = "UNDO_SQL" // an undo migration, as Flyway Teams records it
	TypeDelete   = "DELETE"   // Repair's marker for an applied migration whose file is gone
)

// BaselineDescription is the description and script of a baseline row.
const BaselineDescription = "<< Flyway Baseline >>"

// Applied is one row of the schema history table.
type Applied struct {
	Rank        int     // installed_rank: 1, 2, ... in order of application
	Version     Version // zero for repeatable migrations (version is NULL)
	Description string
	Type        string // TypeSQL, TypeBaseline, TypeUndoSQL or TypeDelete
	Script      string // the file's path relative to its location
	Checksum    *int32 // nil for baseline rows
	InstalledBy string
	InstalledOn time.Time
	// ExecutionTime is how long the migration ran (stored in milliseconds).
	ExecutionTime time.Duration
	Success       bool
}

// Querier is what reading the history needs: a *pgx.Conn or a pgx.Tx.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// table is a schema-qualified history table.
type table struct{ schema, name string }

func (t table) String() string { return pgx.Identifier{t.schema, t.name}.Sanitize() }

// exists reports whether the history table exists.
func (t table) exists(ctx context.Context, q Querier) (bool, error) {
	rows, err := q.Query(ctx, `SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = $2`, t.schema, t.name)
	if err != nil {
		return false, fmt.Errorf("look for history table %s: %w", t, err)
	}
	defer rows.Close()
	found := rows.Next()
	return found, rows.Err()
}

// create makes the history table with Flyway's PostgreSQL definition.
func (t table) create(ctx context.Context, q Querier) error {
	ddl := fmt.Sprintf(`CREATE TABLE %[1]s (
    installed_rank INT NOT NULL,
    version VARCHAR(50),
    description VARCHAR(200) NOT NULL,
    type VARCHAR(20) NOT NULL,
    script VARCHAR(1000) NOT NULL,
    checksum INTEGER,
    installed_by VARCHAR(100) NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT now(),
    execution_time INTEGER NOT NULL,
    success BOOLEAN NOT NULL,
    CONSTRAINT %[2]s PRIMARY KEY (installed_rank)
);
CREATE INDEX %[3]s ON %[1]s (success);`, t,
		pgx.Identifier{t.name + "_pk"}.Sanitize(), pgx.Identifier{t.name + "_s_idx"}.Sanitize())
	if _, err := q.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("create history table %s: %w", t, err)
	}
	return nil
}

// read returns every row in installed_rank order; none when the table
// does not exist.
func (t table) read(ctx context.Context, q Querier) ([]Applied, error) {
	ok, err := t.exists(ctx, q)
	if err != nil || !ok {
		return nil, err
	}
	rows, err := q.Query(ctx, fmt.Sprintf(`SELECT installed_rank, version, description, type, script, checksum,
  installed_by, installed_on, execution_time, success FROM %s ORDER BY installed_rank`, t))
	if err != nil {
		return nil, fmt.Errorf("read history table %s: %w", t, err)
	}
	defer rows.Close()
	var out []Applied
	for rows.Next() {
		var (
			a       Applied
			version *string
			ms      int64
		)
		if err := rows.Scan(&a.Rank, &version, &a.Description, &a.Type, &a.Script, &a.Checksum,
			&a.InstalledBy, &a.InstalledOn, &ms, &a.Success); err != nil {
			return nil, fmt.Errorf("read history table %s: %w", t, err)
		}
		if version != nil && *version != "" {
			if a.Version, err = ParseVersion(*version); err != nil {
				return nil, fmt.Errorf("history table %s row %d: %w", t, a.Rank, err)
			}
		}
		a.ExecutionTime = time.Duration(ms) * time.Millisecond
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read history table %s: %w", t, err)
	}
	return out, nil
}

// insert appends a row with the next installed_rank and the current user
// (or installedBy when not empty). A description longer than the column
// is abbreviated as Flyway does (StoredDescription), and so is a script
// path (storedScript).
func (t table) insert(ctx context.Context, q Querier, a Applied, installedBy string) error {
	var version *string
	if !a.Version.IsZero() {
		s := a.Version.String()
		version = &s
	}
	by := any(nil)
	if installedBy != "" {
		by = installedBy
	}
	_, err := q.Exec(ctx, fmt.Sprintf(`INSERT INTO %s (installed_rank, version, description, type, script, checksum,
  installed_by, execution_time, success)
SELECT COALESCE(MAX(installed_rank), 0) + 1, $1, $2, $3, $4, $5, COALESCE($6, current_user), $7, $8 FROM %[1]s`, t),
		version, StoredDescription(a.Description), a.Type, storedScript(a.Script), a.Checksum, by, a.ExecutionTime.Milliseconds(), a.Success)
	if err != nil {
		return fmt.Errorf("record %s in history table %s: %w", a.Script, t, err)
	}
	return nil
}

// lockKey is the advisory lock's key: Flyway's base number plus the Java
// hashCode of the quoted table name, so that gantry and Flyway working on the
// same table wait for each other.
func (t table) lockKey() int64 {
	var h int32
	for _, r := range t.String() {
		h = 31*h + int32(r)
	}
	return 77431708279161 + int64(h)
}

// errNotExist tells whether err is PostgreSQL's "relation does not exist".
func errNotExist(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42P01"
}

// Column widths of the history table's text columns, as Flyway creates it.
const (
	descriptionWidth = 200 // description VARCHAR(200)
	scriptWidth      = 1000
)

// StoredDescription is the description as the history table holds it:
// unchanged up to 200 characters, else its first 197 characters and "...",
// as Flyway abbreviates it. Comparisons with stored rows (validate, repair,
// repeatable migrations) use this form. Characters are Unicode code points,
// which is what PostgreSQL's VARCHAR(200) counts.
func StoredDescription(d string) string {
	if utf8.RuneCountInString(d) <= descriptionWidth {
		return d
	}
	return string([]rune(d)[:descriptionWidth-3]) + "..."
}

// storedScript is a script path as the history table holds it: unchanged
// up to 1,000 characters, else "..." and its last 997 characters (the file
// name end), as Flyway abbreviates it.
func storedScript(s string) string {
	r := []rune(s)
	if len(r) <= scriptWidth {
		return s
	}
	return "..." + string(r[len(r)-(scriptWidth-3):])
}
