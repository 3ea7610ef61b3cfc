package postgres

import (
	"context"
	"fmt"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/store/sqlstore"
)

// appendLock is the advisory lock key that serializes event appends, so
// events commit in ID order ("events" in ASCII).
const appendLock = 0x6576656e7473

// AppendEvent stores e with a new ID and returns it.
func (s *Store) AppendEvent(ctx context.Context, e rollout.Event) (rollout.Event, error) {
	values, err := s.EventValues(e)
	if err != nil {
		return rollout.Event{}, fmt.Errorf("append event %s of %s/%s: %w", e.Reason, e.App, e.Env, err)
	}
	// The lock is taken before the identity's next value is drawn, and
	// held until the statement's transaction commits.
	var id int64
	err = s.pool.QueryRow(ctx, `
		WITH lock AS (SELECT pg_advisory_xact_lock($1))
		INSERT INTO events (`+sqlstore.EventColumns+`)
		SELECT $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM lock
		RETURNING id`,
		append([]any{appendLock}, values...)...,
	).Scan(&id)
	if err != nil {
		return rollout.Event{}, fmt.Errorf("append event %s of %s/%s: %w", e.Reason, e.App, e.Env, err)
	}
	return sqlstore.StoredEvent(e, id)
}
