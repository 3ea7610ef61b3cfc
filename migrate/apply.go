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
			// One simple-protocol query for the whole file: the results of the
			// statements that completed tell which one failed when
			// PostgreSQL's error has no position.
			results, err := tx.Conn().PgConn().Exec(ctx, s.SQL).ReadAll()
			if err != nil {
				done := 0
				for _, r := range results {
					if r.Err == nil {
						done++
					}
				}
				return time.Since(start), fmt.Errorf("%w: %s at %s: %w; its transaction was rolled back: nothing was applied or recorded",
					ErrMigrationFailed, s.Path, failedAt(s.SQL, done, err), err)
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
			return row.ExecutionTime, errors.Join(fmt.Errorf("%w: %s at %s: %w; it runs outside a transaction, so the statements "+
				"before line %d stay applied and the history records it as failed: undo its changes by hand, then run `gantry db repair`",
				ErrMigrationFailed, s.Path, statementAt(st, err), err, st.Line), recErr)
		}
	}
	row.ExecutionTime = time.Since(start)
	return row.ExecutionTime, m.table.insert(ctx, m.conn, row, m.opts.InstalledBy)
}

// failedAt says where in a file's sql a failure happened, given how many
// of its statements completed before it. With an error position (a syntax
// error, an unknown table) it is the position's line and the statement
// starting at or before it; without one (a constraint violation, a
// division by zero) it is the first statement that did not complete.
func failedAt(sql string, completed int, err error) string {
	stmts := SplitStatements(sql)
	if len(stmts) == 0 {
		return fmt.Sprintf("line %d", errorLine(sql, err, 1))
	}
	if hasPosition(err) {
		line := errorLine(sql, err, 1)
		st := stmts[0]
		for _, s := range stmts {
			if s.Line <= line {
				st = s
			}
		}
		return describeAt(line, st)
	}
	st := stmts[min(completed, len(stmts)-1)]
	return describeAt(st.Line, st)
}

// statementAt names the statement st, run on its own, that failed with err.
func statementAt(st Statement, err error) string {
	return describeAt(errorLine(st.SQL, err, st.Line), st)
}

func describeAt(line int, st Statement) string {
	return fmt.Sprintf("line %d (statement %q)", line, shorten(st.SQL, 80))
}

func hasPosition(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Position > 0
}

// shorten collapses a statement's white space and cuts it to at most n
// characters, marking the cut with "...".
func shorten(sql string, n int) string {
	s := strings.Join(strings.Fields(sql), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-3]) + "..."
	}
	return s
}

// errorLine returns the file line a PostgreSQL error points at: the
// error's character position within sql, which starts on line first; first
// when the error has no position.
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
