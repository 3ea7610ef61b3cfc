package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

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
		var head audit.Head
		if err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&head.Seq, &head.Hash); err != nil {
			return fmt.Errorf("read head: %w", err)
		}
		r = audit.Link(head, r)
		if _, err := tx.Exec(ctx, `
			INSERT INTO audit_log (seq, time, actor, token_id, action, app, env, target, method, path,
				remote_addr, status, outcome, message, prev_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			r.Seq, tstz(r.Time), r.Actor, r.TokenID, r.Action, r.App, r.Env, r.Target, r.Method, r.Path,
			r.RemoteAddr, r.Status, r.Outcome, r.Message, r.PrevHash, r.Hash); err != nil {
			return fmt.Errorf("record %d: %w", r.Seq, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, r.Seq, r.Hash); err != nil {
			return fmt.Errorf("move head: %w", err)
		}
		return nil
	})
	if err != nil {
		return audit.Record{}, fmt.Errorf("append audit record: %w", err)
	}
	return r, nil
}

// AuditHead returns the newest record's place as the last append left it.
func (s *Store) AuditHead(ctx context.Context) (audit.Head, error) {
	var h audit.Head
	err := s.pool.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&h.Seq, &h.Hash)
	if err == pgx.ErrNoRows {
		return audit.Head{}, nil
	}
	if err != nil {
		return audit.Head{}, fmt.Errorf("read audit head: %w", err)
	}
	return h, nil
}

// ListAudit returns the records f selects, in Seq order.
func (s *Store) ListAudit(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	var q query
	if f.Actor != "" {
		q.add("actor = ?", f.Actor)
	}
	if f.Env != "" {
		q.add("env = ?", f.Env)
	}
	if f.Action != "" {
		q.add("action = ?", f.Action)
	}
	if !f.Since.IsZero() {
		q.add("time >= ?", tstz(f.Since))
	}
	if f.AfterSeq != 0 {
		q.add("seq > ?", f.AfterSeq)
	}
	sql := `SELECT seq, time, actor, token_id, action, app, env, target, method, path,
		remote_addr, status, outcome, message, prev_hash, hash FROM audit_log` + q.clause()
	switch {
	case f.Limit > 0 && f.Newest:
		sql += ` ORDER BY seq DESC LIMIT ` + q.arg(f.Limit)
	case f.Limit > 0:
		sql += ` ORDER BY seq LIMIT ` + q.arg(f.Limit)
	default:
		sql += ` ORDER BY seq`
	}
	rows, err := s.pool.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, fmt.Errorf("list audit records: %w", err)
	}
	rs, err := collect(rows, scanAudit)
	if err != nil {
		return nil, fmt.Errorf("list audit records: %w", err)
	}
	if f.Limit > 0 && f.Newest {
		slices.Reverse(rs)
	}
	return rs, nil
}

func scanAudit(row pgx.Row) (audit.Record, error) {
	var (
		r audit.Record
		t *time.Time
	)
	err := row.Scan(&r.Seq, &t, &r.Actor, &r.TokenID, &r.Action, &r.App, &r.Env, &r.Target, &r.Method, &r.Path,
		&r.RemoteAddr, &r.Status, &r.Outcome, &r.Message, &r.PrevHash, &r.Hash)
	r.Time = timeOf(t)
	return r, err
}
