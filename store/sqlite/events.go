package sqlite

import (
	"context"
	"fmt"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/store/sqlstore"
)

// AppendEvent stores e with a new ID and returns it. The one writer
// connection serializes appends, so IDs commit in order.
func (s *Store) AppendEvent(ctx context.Context, e rollout.Event) (rollout.Event, error) {
	values, err := s.EventValues(e)
	if err != nil {
		return rollout.Event{}, fmt.Errorf("append event %s of %s/%s: %w", e.Reason, e.App, e.Env, err)
	}
	var id int64
	err = s.writer.QueryRowContext(ctx, `INSERT INTO events (`+sqlstore.EventColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, values...).Scan(&id)
	if err != nil {
		return rollout.Event{}, fmt.Errorf("append event %s of %s/%s: %w", e.Reason, e.App, e.Env, err)
	}
	return sqlstore.StoredEvent(e, id)
}
