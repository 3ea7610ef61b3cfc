package sqlite

import (
	"context"
	"fmt"

	"github.com/gantry-dev/gantry/audit"
)

var _ audit.Store = (*Store)(nil)

// AppendAudit links r after the newest record and stores it. The
// transaction begins IMMEDIATE (it takes SQLite's write lock first), so
// appends, also from other processes, are serialized and the chain
// cannot fork.
func (s *Store) AppendAudit(ctx context.Context, r audit.Record) (audit.Record, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return audit.Record{}, fmt.Errorf("append audit record: %w", err)
	}
	defer tx.Rollback()
	r, err = s.Store.AppendAudit(ctx, db{read: tx, write: tx}, r)
	if err != nil {
		return audit.Record{}, fmt.Errorf("append audit record: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return audit.Record{}, fmt.Errorf("append audit record %d: commit: %w", r.Seq, err)
	}
	return r, nil
}
