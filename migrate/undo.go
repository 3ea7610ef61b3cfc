package migrate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrNoUndo is wrapped by Undo's error when an applied migration it should
// reverse has no U<version>__*.sql file.
var ErrNoUndo = errors.New("no undo migration")

// UndoOptions choose what Undo reverses.
type UndoOptions struct {
	// Target undoes every applied versioned migration above this version,
	// keeping Target itself applied. Zero: use Count.
	Target Version
	// Count is how many of the most recently applied versioned migrations
	// to undo when Target is zero. Zero means 1.
	Count int
}

// UndoResult says what Undo did.
type UndoResult struct {
	From, To Version // schema version before and after
	Undone   []Run   // the undo scripts that ran, in order
}

// Undo reverses applied versioned migrations, most recently applied first,
// by running their U<version>__*.sql files, each in its own transaction
// with its history row. The row has type UNDO_SQL and the undo file's
// version, description, name and checksum, as Flyway Teams records it; the
// undone version becomes pending again. Undo checks first that every
// migration it should reverse has an undo file, and runs nothing otherwise.
func (m *Migrator) Undo(ctx context.Context, opts UndoOptions) (*UndoResult, error) {
	res := &UndoResult{}
	err := m.withLock(ctx, func() error {
		rows, err := m.table.read(ctx, m.conn)
		if err != nil {
			return err
		}
		info := Plan(m.set, rows, PlanOptions{})
		res.From, res.To = info.Current, info.Current
		for _, p := range info.Problems {
			if p.Kind == FailedMigration {
				return &ValidationError{Table: m.table.String(), Problems: []Problem{p}}
			}
		}
		var applied []Entry
		for _, e := range info.Entries {
			if e.Kind == Versioned && e.Applied != nil && e.Type == TypeSQL && (e.State == Success || e.State == OutOfOrder) {
				applied = append(applied, e)
			}
		}
		sort.SliceStable(applied, func(i, j int) bool { return applied[i].Applied.Rank > applied[j].Applied.Rank })
		var todo []Entry
		for _, e := range applied {
			if opts.Target.IsZero() && len(todo) == max(opts.Count, 1) {
				break
			}
			if opts.Target.IsZero() || e.Version.Compare(opts.Target) > 0 {
				todo = append(todo, e)
			}
		}
		if len(todo) == 0 {
			m.logf("Nothing to undo")
			return nil
		}
		var missing []string
		for _, e := range todo {
			if m.set.UndoFor(e.Version) == nil {
				missing = append(missing, fmt.Sprintf("U%s__<description>.sql for %s", e.Version, e.Script))
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("%w: add %s; nothing was undone", ErrNoUndo, strings.Join(missing, ", "))
		}
		for _, e := range todo {
			u := m.set.UndoFor(e.Version)
			m.logf("Undoing migration of schema %s to version %s - %s%s", m.table.schema, u.Version, u.Description, nonTxNote(u))
			d, err := m.apply(ctx, u, TypeUndoSQL)
			if err != nil {
				return err
			}
			res.Undone = append(res.Undone, Run{Script: u, Duration: d})
		}
		rows, err = m.table.read(ctx, m.conn)
		if err != nil {
			return err
		}
		res.To = Plan(m.set, rows, PlanOptions{}).Current
		m.logf("Undid %d migration(s); schema %s now at version %s", len(res.Undone), m.table.schema, versionOrNone(res.To))
		return nil
	})
	return res, err
}
