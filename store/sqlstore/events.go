package sqlstore

import (
	"context"
	"slices"

	"github.com/gantry-dev/gantry/rollout"
)

// EventColumns are the columns EventValues fills, in order.
const EventColumns = `time, app, env, rollout_id, type, reason, from_phase, to_phase, message, actor, details`

// EventValues returns e's values for EventColumns.
func (s *Store) EventValues(e rollout.Event) ([]any, error) {
	var rolloutID any // NULL: not about a rollout
	if e.RolloutID != 0 {
		rolloutID = e.RolloutID
	}
	details, err := Details(e.Details)
	if err != nil {
		return nil, err
	}
	return []any{s.Dialect.Time(e.Time), e.App, e.Env, rolloutID, string(e.Type), string(e.Reason),
		Phase(e.From), Phase(e.To), e.Message, e.Actor, details}, nil
}

// StoredEvent returns e, stored with id, as a read gives it back.
func StoredEvent(e rollout.Event, id int64) (rollout.Event, error) {
	e.ID, e.Time = id, StoredTime(e.Time)
	var err error
	e.Details, err = StoredDetails(e.Details)
	return e, err
}

// ListEvents returns the events f selects, oldest first; with a Limit, the
// newest Limit of them.
func (s *Store) ListEvents(ctx context.Context, f rollout.EventFilter) ([]rollout.Event, error) {
	var w filter
	addIf(&w, "app = ?", f.App)
	addIf(&w, "env = ?", f.Env)
	addIf(&w, "rollout_id = ?", f.RolloutID)
	addIf(&w, "id > ?", f.AfterID)
	if !f.Since.IsZero() {
		w.add("time >= ?", s.Dialect.Time(f.Since))
	}
	q, args := `SELECT id, `+EventColumns+` FROM events`+w.where(), w.args
	if f.Limit > 0 {
		q, args = q+` ORDER BY id DESC LIMIT ?`, append(args, f.Limit)
	} else {
		q += ` ORDER BY id`
	}
	es, err := list(ctx, s.DB, "events", scanEvent, q, args...)
	if f.Limit > 0 {
		slices.Reverse(es)
	}
	return es, err
}

func scanEvent(row Row) (rollout.Event, error) {
	var (
		e                     rollout.Event
		rolloutID             *int64
		typ, reason, from, to string
		details               []byte
	)
	err := row.Scan(&e.ID, Time{&e.Time}, &e.App, &e.Env, &rolloutID, &typ, &reason, &from, &to, &e.Message, &e.Actor, &details)
	if err != nil {
		return e, err
	}
	if rolloutID != nil {
		e.RolloutID = *rolloutID
	}
	e.Type, e.Reason = rollout.EventType(typ), rollout.Reason(reason)
	return e, EventFacts(&e, from, to, details)
}
