package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/store/sqlstore"
)

// appendLock is the advisory lock key that serializes event appends, so
// events commit in ID order ("events" in ASCII).
const appendLock = 0x6576656e7473

// AppendEvent stores e with a new ID and returns it.
func (s *Store) AppendEvent(ctx context.Context, e rollout.Event) (rollout.Event, error) {
	var rolloutID any // NULL: not about a rollout
	if e.RolloutID != 0 {
		rolloutID = e.RolloutID
	}
	details, err := sqlstore.Details(e.Details)
	if err != nil {
		return rollout.Event{}, fmt.Errorf("append event %s of %s/%s: %w", e.Reason, e.App, e.Env, err)
	}
	// The lock is taken before the identity's next value is drawn, and
	// held until the statement's transaction commits.
	err = s.pool.QueryRow(ctx, `
		WITH lock AS (SELECT pg_advisory_xact_lock($1))
		INSERT INTO events (time, app, env, rollout_id, type, reason, from_phase, to_phase, message, actor, details)
		SELECT $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM lock
		RETURNING id`,
		appendLock, tstz(e.Time), e.App, e.Env, rolloutID, string(e.Type), string(e.Reason), sqlstore.Phase(e.From), sqlstore.Phase(e.To),
		e.Message, e.Actor, details,
	).Scan(&e.ID)
	if err != nil {
		return rollout.Event{}, fmt.Errorf("append event %s of %s/%s: %w", e.Reason, e.App, e.Env, err)
	}
	e.Time = storedTime(e.Time)
	e.Details, err = sqlstore.StoredDetails(e.Details)
	return e, err
}

// ListEvents returns the events f selects, oldest first; with a Limit, the
// newest Limit of them.
func (s *Store) ListEvents(ctx context.Context, f rollout.EventFilter) ([]rollout.Event, error) {
	var q query
	if f.App != "" {
		q.add("app = ?", f.App)
	}
	if f.Env != "" {
		q.add("env = ?", f.Env)
	}
	if f.RolloutID != 0 {
		q.add("rollout_id = ?", f.RolloutID)
	}
	if f.AfterID != 0 {
		q.add("id > ?", f.AfterID)
	}
	if !f.Since.IsZero() {
		q.add("time >= ?", tstz(f.Since))
	}
	sql := `SELECT id, time, app, env, rollout_id, type, reason, from_phase, to_phase, message, actor, details FROM events` + q.clause()
	if f.Limit > 0 {
		sql += ` ORDER BY id DESC LIMIT ` + q.arg(f.Limit)
	} else {
		sql += ` ORDER BY id`
	}
	rows, err := s.pool.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	es, err := collect(rows, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	if f.Limit > 0 {
		slices.Reverse(es)
	}
	return es, nil
}

func scanEvent(row pgx.Row) (rollout.Event, error) {
	var (
		e         rollout.Event
		t         *time.Time
		rolloutID *int64
		typ       string
		from, to  string
		details   []byte
	)
	if err := row.Scan(&e.ID, &t, &e.App, &e.Env, &rolloutID, &typ, &e.Reason, &from, &to, &e.Message, &e.Actor, &details); err != nil {
		return e, err
	}
	if err := sqlstore.EventFacts(&e, from, to, details); err != nil {
		return e, err
	}
	e.Time, e.Type = timeOf(t), rollout.EventType(typ)
	if rolloutID != nil {
		e.RolloutID = *rolloutID
	}
	return e, nil
}
