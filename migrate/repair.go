package migrate

import (
	"context"
	"fmt"
)

// RepairResult says what Repair changed.
type RepairResult struct {
	Removed   []Applied // failed rows deleted
	Realigned []Applied // applied rows whose checksum or description now match their files (as they were before)
	Deleted   []Applied // applied rows whose files are gone, now marked with a DELETE row
}

// Repair fixes the history after a person has dealt with the database: it
// deletes the rows of failed migrations, realigns the checksums and
// descriptions of applied migrations with their (edited) files, and marks
// applied migrations whose files are gone with a DELETE row, all in one
// transaction. It changes nothing but the history table.
func (m *Migrator) Repair(ctx context.Context) (*RepairResult, error) {
	res := &RepairResult{}
	err := m.withLock(ctx, func() error {
		rows, err := m.table.read(ctx, m.conn)
		if err != nil || rows == nil {
			return err
		}
		info := Plan(m.set, rows, PlanOptions{})
		tx, err := m.conn.Begin(ctx)
		if err != nil {
			return fmt.Errorf("repair: begin transaction: %w", err)
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		for _, e := range info.Entries {
			r := e.Applied
			switch {
			case r == nil:
			case !r.Success:
				if _, err := tx.Exec(ctx, fmt.Sprintf("DELETE FROM %s WHERE installed_rank = $1", m.table), r.Rank); err != nil {
					return fmt.Errorf("repair: delete failed row %d: %w", r.Rank, err)
				}
				res.Removed = append(res.Removed, *r)
			case e.State == Missing:
				del := *r
				del.Type, del.ExecutionTime = TypeDelete, 0
				if err := m.table.insert(ctx, tx, del, m.opts.InstalledBy); err != nil {
					return err
				}
				res.Deleted = append(res.Deleted, *r)
			case e.Kind == Versioned && e.Local != nil && (e.State == Success || e.State == OutOfOrder) &&
				(r.Checksum == nil || *r.Checksum != e.Local.Checksum || r.Description != StoredDescription(e.Local.Description)):
				if _, err := tx.Exec(ctx, fmt.Sprintf("UPDATE %s SET checksum = $1, description = $2 WHERE installed_rank = $3", m.table),
					e.Local.Checksum, StoredDescription(e.Local.Description), r.Rank); err != nil {
					return fmt.Errorf("repair: realign row %d: %w", r.Rank, err)
				}
				res.Realigned = append(res.Realigned, *r)
			}
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("repair: commit: %w", err)
		}
		m.logf("Repaired %s: removed %d failed row(s), realigned %d, marked %d deleted",
			m.table, len(res.Removed), len(res.Realigned), len(res.Deleted))
		return nil
	})
	return res, err
}
