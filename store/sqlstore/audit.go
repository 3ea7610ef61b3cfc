package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gantry-dev/gantry/audit"
)

const auditColumns = `seq, time, actor, token_id, action, app, env, target, method, path,
	remote_addr, status, outcome, message, prev_hash, hash, rollout_id, event_id`

// AppendAudit links r after the newest record and stores it, moving the
// head, all in tx: the driver's transaction, which must hold the lock
// that serializes appends (so the chain cannot fork).
func (s *Store) AppendAudit(ctx context.Context, tx DB, r audit.Record) (audit.Record, error) {
	var head audit.Head
	if err := tx.ExecRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&head.Seq, &head.Hash); err != nil {
		return audit.Record{}, fmt.Errorf("read head: %w", err)
	}
	r = audit.Link(head, r)
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (`+auditColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Seq, s.Dialect.Time(r.Time), r.Actor, r.TokenID, r.Action, r.App, r.Env, r.Target, r.Method, r.Path,
		r.RemoteAddr, r.Status, r.Outcome, r.Message, r.PrevHash, r.Hash, r.RolloutID, r.EventID)
	if err != nil {
		return audit.Record{}, fmt.Errorf("record %d: %w", r.Seq, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, r.Seq, r.Hash); err != nil {
		return audit.Record{}, fmt.Errorf("record %d: move head: %w", r.Seq, err)
	}
	return r, nil
}

// AuditHead returns the newest record's place as the last append left it.
func (s *Store) AuditHead(ctx context.Context) (audit.Head, error) {
	var h audit.Head
	err := s.DB.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&h.Seq, &h.Hash)
	if errors.Is(err, ErrNoRows) {
		return audit.Head{}, nil
	}
	if err != nil {
		return audit.Head{}, fmt.Errorf("read audit head: %w", err)
	}
	return h, nil
}

// ListAudit returns the records f selects, in Seq order.
func (s *Store) ListAudit(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	var w filter
	addIf(&w, "actor = ?", f.Actor)
	addIf(&w, "env = ?", f.Env)
	addIf(&w, "action = ?", f.Action)
	if !f.Since.IsZero() {
		w.add("time >= ?", s.Dialect.Time(f.Since))
	}
	addIf(&w, "seq > ?", f.AfterSeq)
	q, args := `SELECT `+auditColumns+` FROM audit_log`+w.where(), w.args
	switch {
	case f.Limit > 0 && f.Newest:
		q, args = q+` ORDER BY seq DESC LIMIT ?`, append(args, f.Limit)
	case f.Limit > 0:
		q, args = q+` ORDER BY seq LIMIT ?`, append(args, f.Limit)
	default:
		q += ` ORDER BY seq`
	}
	rs, err := list(ctx, s.DB, "audit records", scanAudit, q, args...)
	if f.Limit > 0 && f.Newest {
		slices.Reverse(rs)
	}
	return rs, err
}

func scanAudit(row Row) (audit.Record, error) {
	var r audit.Record
	err := row.Scan(&r.Seq, Time{&r.Time}, &r.Actor, &r.TokenID, &r.Action, &r.App, &r.Env, &r.Target, &r.Method, &r.Path,
		&r.RemoteAddr, &r.Status, &r.Outcome, &r.Message, &r.PrevHash, &r.Hash, &r.RolloutID, &r.EventID)
	return r, err
}
