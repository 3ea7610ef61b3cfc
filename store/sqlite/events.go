package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/store/sqlstore"
)

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
	err = s.writer.QueryRowContext(ctx, `
		INSERT INTO events (time, app, env, rollout_id, type, reason, from_phase, to_phase, message, actor, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		micros(e.Time), e.App, e.Env, rolloutID, string(e.Type), string(e.Reason), sqlstore.Phase(e.From), sqlstore.Phase(e.To),
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
	var where []string
	var args []any
	if f.App != "" {
		where, args = append(where, "app = ?"), append(args, f.App)
	}
	if f.Env != "" {
		where, args = append(where, "env = ?"), append(args, f.Env)
	}
	if f.RolloutID != 0 {
		where, args = append(where, "rollout_id = ?"), append(args, f.RolloutID)
	}
	if f.AfterID != 0 {
		where, args = append(where, "id > ?"), append(args, f.AfterID)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "time >= ?"), append(args, micros(f.Since))
	}
	q := `SELECT id, time, app, env, rollout_id, type, reason, from_phase, to_phase, message, actor, details FROM events` + whereClause(where)
	if f.Limit > 0 {
		q, args = q+` ORDER BY id DESC LIMIT ?`, append(args, f.Limit)
	} else {
		q += ` ORDER BY id`
	}
	rows, err := s.reader.QueryContext(ctx, q, args...)
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

func scanEvent(row scanner) (rollout.Event, error) {
	var (
		e         rollout.Event
		t         sql.NullInt64
		rolloutID sql.NullInt64
		typ       string
		from, to  string
		details   []byte
	)
	if err := row.Scan(&e.ID, &t, &e.App, &e.Env, &rolloutID, &typ, &e.Reason, &from, &to, &e.Message, &e.Actor, &details); err != nil {
		return e, err
	}
	e.Time, e.RolloutID, e.Type = timeOf(t), rolloutID.Int64, rollout.EventType(typ)
	return e, sqlstore.EventFacts(&e, from, to, details)
}
