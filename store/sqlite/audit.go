package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/gantry-dev/gantry/audit"
)

var _ audit.Store = (*Store)(nil)

// AppendAudit links r after the newest record and stores it. The
// transaction begins IMMEDIATE (it takes SQLite's write lock first), so
// appends, also from other processes, are serialized and the chain
// cannot fork.
func (s *Store) AppendAudit(ctx context.Context, r audit.Record) (stored audit.Record, err error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return audit.Record{}, fmt.Errorf("append audit record: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	var head audit.Head
	if err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&head.Seq, &head.Hash); err != nil {
		return audit.Record{}, fmt.Errorf("append audit record: read head: %w", err)
	}
	r = audit.Link(head, r)
	_, err = tx.ExecContext(ctx, `
		INSERT INTO audit_log (seq, time, actor, token_id, action, app, env, target, method, path,
			remote_addr, status, outcome, message, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Seq, micros(r.Time), r.Actor, r.TokenID, r.Action, r.App, r.Env, r.Target, r.Method, r.Path,
		r.RemoteAddr, r.Status, r.Outcome, r.Message, r.PrevHash, r.Hash)
	if err != nil {
		return audit.Record{}, fmt.Errorf("append audit record %d: %w", r.Seq, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, r.Seq, r.Hash); err != nil {
		return audit.Record{}, fmt.Errorf("append audit record %d: move head: %w", r.Seq, err)
	}
	if err := tx.Commit(); err != nil {
		return audit.Record{}, fmt.Errorf("append audit record %d: commit: %w", r.Seq, err)
	}
	return r, nil
}

// AuditHead returns the newest record's place as the last append left it.
func (s *Store) AuditHead(ctx context.Context) (audit.Head, error) {
	var h audit.Head
	err := s.reader.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&h.Seq, &h.Hash)
	if err == sql.ErrNoRows {
		return audit.Head{}, nil
	}
	if err != nil {
		return audit.Head{}, fmt.Errorf("read audit head: %w", err)
	}
	return h, nil
}

// ListAudit returns the records f selects, in Seq order.
func (s *Store) ListAudit(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	var where []string
	var args []any
	if f.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, f.Actor)
	}
	if f.Env != "" {
		where, args = append(where, "env = ?"), append(args, f.Env)
	}
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "time >= ?"), append(args, micros(f.Since))
	}
	if f.AfterSeq != 0 {
		where, args = append(where, "seq > ?"), append(args, f.AfterSeq)
	}
	q := `SELECT seq, time, actor, token_id, action, app, env, target, method, path,
		remote_addr, status, outcome, message, prev_hash, hash FROM audit_log` + whereClause(where)
	switch {
	case f.Limit > 0 && f.Newest:
		q, args = q+` ORDER BY seq DESC LIMIT ?`, append(args, f.Limit)
	case f.Limit > 0:
		q, args = q+` ORDER BY seq LIMIT ?`, append(args, f.Limit)
	default:
		q += ` ORDER BY seq`
	}
	rows, err := s.reader.QueryContext(ctx, q, args...)
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

func scanAudit(row scanner) (audit.Record, error) {
	var (
		r audit.Record
		t sql.NullInt64
	)
	err := row.Scan(&r.Seq, &t, &r.Actor, &r.TokenID, &r.Action, &r.App, &r.Env, &r.Target, &r.Method, &r.Path,
		&r.RemoteAddr, &r.Status, &r.Outcome, &r.Message, &r.PrevHash, &r.Hash)
	r.Time = timeOf(t)
	return r, err
}
