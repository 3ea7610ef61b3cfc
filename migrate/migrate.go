package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNonEmptySchema is returned by Migrate when the schema already holds
// tables but no history table: the database was built some other way, and
// Baseline must say which version it is at first.
var ErrNonEmptySchema = errors.New("schema holds tables but no schema history")

// Run is one migration that ran.
type Run struct {
	Script   *Script
	Duration time.Duration
}

// MigrateResult says what Migrate did.
type MigrateResult struct {
	From, To Version // schema version before and after; zero when none
	Applied  []Run   // in order of application
}

// Migrate applies the pending migrations in order: versioned ones by
// version, then repeatable ones that are new or changed, each in its own
// transaction with its history row. It first validates as Validate does
// (pending migrations aside) and applies nothing when that fails. It
// creates the history table when it is missing, refusing a schema that
// already holds tables (run Baseline first). On a failed migration it stops
// and returns what it applied before, and an error wrapping
// ErrMigrationFailed.
func (m *Migrator) Migrate(ctx context.Context, opts PlanOptions) (*MigrateResult, error) {
	res := &MigrateResult{}
	err := m.withLock(ctx, func() error {
		exists, err := m.table.exists(ctx, m.conn)
		if err != nil {
			return err
		}
		if !exists {
			if err := m.refuseNonEmpty(ctx); err != nil {
				return err
			}
			if err := m.table.create(ctx, m.conn); err != nil {
				return err
			}
			m.logf("Created schema history table %s", m.table)
		}
		rows, err := m.table.read(ctx, m.conn)
		if err != nil {
			return err
		}
		info := Plan(m.set, rows, opts)
		res.From, res.To = info.Current, info.Current
		var probs []Problem
		for _, p := range info.Problems {
			if p.Kind != NotApplied {
				probs = append(probs, p)
			}
		}
		if len(probs) > 0 {
			return &ValidationError{Table: m.table.String(), Problems: probs}
		}
		if len(info.Pending) == 0 {
			m.logf("Schema %s is up to date at version %s; nothing to migrate", m.table.schema, versionOrNone(info.Current))
			return nil
		}
		for _, s := range info.Pending {
			if s.Kind == Versioned {
				m.logf("Migrating schema %s to version %s - %s%s", m.table.schema, s.Version, s.Description, nonTxNote(s))
			} else {
				m.logf("Migrating schema %s with repeatable migration %s%s", m.table.schema, s.Description, nonTxNote(s))
			}
			d, err := m.apply(ctx, s, TypeSQL)
			if err != nil {
				return err
			}
			res.Applied = append(res.Applied, Run{Script: s, Duration: d})
			if s.Kind == Versioned && s.Version.Compare(res.To) > 0 {
				res.To = s.Version
			}
		}
		m.logf("Applied %d migration(s); schema %s now at version %s", len(res.Applied), m.table.schema, versionOrNone(res.To))
		return nil
	})
	return res, err
}

func (m *Migrator) refuseNonEmpty(ctx context.Context) error {
	var n int
	err := m.conn.QueryRow(ctx, `SELECT count(*) FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace
  WHERE ns.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')`, m.table.schema).Scan(&n)
	if err != nil {
		return fmt.Errorf("inspect schema %s: %w", m.table.schema, err)
	}
	if n > 0 {
		return fmt.Errorf("%w: schema %q holds %d tables, views or sequences but no %s table; "+
			"run `gantry db baseline --baseline-version <its version>` to start the history there", ErrNonEmptySchema, m.table.schema, n, m.table.name)
	}
	return nil
}

func nonTxNote(s *Script) string {
	if s.NonTransactional {
		return " [non-transactional]"
	}
	return ""
}

func versionOrNone(v Version) string {
	if v.IsZero() {
		return "<none>"
	}
	return v.String()
}
