package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/store/sqlstore"
)

// Store is a rollout.Store in PostgreSQL. It is safe for concurrent use;
// Close it when done.
type Store struct {
	// Store is the logic every SQL store shares, over this one's pool.
	sqlstore.Store
	pool *pgxpool.Pool
}

var _ rollout.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or a libpq
// key=value string) and brings its schema up to date.
func Open(ctx context.Context, url string) (*Store, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{pool: pool}
	s.Store = sqlstore.Store{DB: db{pool}, Dialect: dialect, InsertRevision: s.insertRevision}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	return s, nil
}

// Close closes every connection of the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// tstz encodes t for a timestamptz column: nil for the zero time, else t
// truncated to the microsecond.
func tstz(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Truncate(time.Microsecond)
}

// timeOf decodes a nullable timestamptz column into UTC.
func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// storedTime returns t as a read gives it back.
func storedTime(t time.Time) time.Time { return sqlstore.StoredTime(t) }
