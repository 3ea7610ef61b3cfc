package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-dev/gantry/audit"
)

var _ audit.Store = (*Store)(nil)

// auditLock is the advisory lock key that serializes audit appends, also
// between servers sharing the database ("audit" in ASCII).
const auditLock = 0x6175646974

// AppendAudit links r after the newest record and stores it, holding a
// transaction-scoped advisory lock so appends from every connection and
// every server are serialized and the chain cannot fork.
func (s *Store) AppendAudit(ctx context.Context, r audit.Record) (audit.Record, error) {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, auditLock); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		var err error
		r, err = s.Store.AppendAudit(ctx, db{tx}, r)
		return err
	})
	if err != nil {
		return audit.Record{}, fmt.Errorf("append audit record: %w", err)
	}
	return r, nil
}
