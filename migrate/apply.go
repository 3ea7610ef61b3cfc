package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrMigrationFailed is wrapped by the error of a migration (or undo
// migration) whose SQL the database rejected.
var ErrMigrationFailed = errors.New("migration failed")

// apply runs one script and records it under rowType. A transactional
// script runs in one transaction with its history row: on failure nothing
// changes and nothing is recorded. A non-transactional one runs statement by
// statement; on failure the statements before stay applied and a row with
// success=false records it, as Flyway does.
func (m *Migrator) apply(ctx context.Context, s *Script, rowType string) (time.Duration, error) {
	row := Applied{Version: s.Version, Description: s.Description, Type: rowType, Script: s.Name,
		Checksum: &s.Checksum, Success: true}
	start := time.Now()
	if !s.NonTransactional {
		tx, err := m.conn.Begin(ctx)
		if err != nil {
			return 0, fmt.Errorf("%s: begin transaction: %w", s.Path, err)
		}
		defer tx.Rollback(context.WithoutCancel(ctx)) // no-op after Commit
		if strings.TrimSpace(s.SQL) != "" {
			if _, err := tx.Exec(ctx, s.SQL); err != nil {
				return time.Since(start), fmt.Errorf("%w: %s at line %d: %w; its transaction was rolled back: nothing was applied or recorded",
					ErrMigrationFailed, s.Path, errorLine(s.SQL, err, 1), err)
			}
		}
		row.ExecutionTime = time.Since(start)
		if err := m.table.insert(ctx, tx, row, m.opts.InstalledBy); err != nil {
			return row.ExecutionTime, err
		}
		if err := tx.Commit(ctx); err != nil {
			return row.ExecutionTime, fmt.Errorf("%s: commit: %w", s.Path, err)
		}
		return row.ExecutionTime, nil
	}
	for _, st := range SplitStatements(s.SQL) {
		if _, err := m.conn.Exec(ctx, st.SQL); err != nil {
			row.ExecutionTime, row.Success = time.Since(start), false
			recErr := m.table.insert(context.WithoutCancel(ctx), m.conn, row, m.opts.InstalledBy)
			return row.ExecutionTime, errors.Join(fmt.Errorf("%w: %s at line %d: %w; it runs outside a transaction, so the statements "+
				"before line %d stay applied and the history records it as failed: undo its changes by hand, then run `gantry db repair`",
				ErrMigrationFailed, s.Path, errorLine(st.SQL, err, st.Line), err, st.Line), recErr)
		}
	}
	row.ExecutionTime = time.Since(start)
	return row.ExecutionTime, m.table.insert(ctx, m.conn, row, m.opts.InstalledBy)
}

// errorLine returns the file line a PostgreSQL error points at: the
// error's character position within sql, which starts on line first.
func errorLine(sql string, err error, first int) int {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Position <= 0 {
		return first
	}
	line, chars := first, 0
	for _, r := range sql {
		chars++
		if chars >= int(pgErr.Position) {
			break
		}
		if r == '\n' {
			line++
		}
	}
	return line
}
