package migrate

import (
	"context"
	"errors"
	"fmt"
)

// ErrHistoryNotEmpty is returned by Baseline when the history already has rows.
var ErrHistoryNotEmpty = errors.New("schema history is not empty")

// BaselineOptions say where the history of an existing database starts.
type BaselineOptions struct {
	// Version is the baseline version: migrations at or below it are never
	// run. Zero means 1, as in Flyway.
	Version Version
	// Description is recorded for the baseline row. Empty: BaselineDescription.
	Description string
}

// Baseline starts the history of a database that was built without it:
// it creates the history table if needed and records one BASELINE row. It
// does nothing if the same baseline is already recorded, and refuses a
// history that holds anything else.
func (m *Migrator) Baseline(ctx context.Context, opts BaselineOptions) error {
	if opts.Version.IsZero() {
		opts.Version = MustParseVersion("1")
	}
	if opts.Description == "" {
		opts.Description = BaselineDescription
	}
	return m.withLock(ctx, func() error {
		exists, err := m.table.exists(ctx, m.conn)
		if err != nil {
			return err
		}
		if !exists {
			if err := m.table.create(ctx, m.conn); err != nil {
				return err
			}
		}
		rows, err := m.table.read(ctx, m.conn)
		if err != nil {
			return err
		}
		if len(rows) == 1 && rows[0].Type == TypeBaseline && rows[0].Version.Compare(opts.Version) == 0 {
			m.logf("Schema %s is already baselined at version %s", m.table.schema, opts.Version)
			return nil
		}
		if len(rows) > 0 {
			return fmt.Errorf("%w: %s already holds %d row(s); baseline only starts the history of a database that has none",
				ErrHistoryNotEmpty, m.table, len(rows))
		}
		err = m.table.insert(ctx, m.conn, Applied{Version: opts.Version, Description: opts.Description,
			Type: TypeBaseline, Script: opts.Description, Success: true}, m.opts.InstalledBy)
		if err == nil {
			m.logf("Baselined schema %s at version %s", m.table.schema, opts.Version)
		}
		return err
	})
}
