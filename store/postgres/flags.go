package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gantry-dev/gantry/featureflag"
)

var _ featureflag.Store = (*Store)(nil)

// AppendFlagVersions stores flag versions in one transaction; see
// featureflag.Store. Two servers racing for the same version: one wins,
// the other gets featureflag.ErrConflict from the unique key.
func (s *Store) AppendFlagVersions(ctx context.Context, vs []featureflag.Version) ([]featureflag.Version, error) {
	out := make([]featureflag.Version, len(vs))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for i, v := range vs {
			var newest int64
			if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM flag_versions WHERE env = $1 AND key = $2`, v.Env, v.Key).Scan(&newest); err != nil {
				return fmt.Errorf("store flag %s: %w", v.Key, err)
			}
			if v.Version != newest+1 {
				return fmt.Errorf("store flag %s version %d: it is at version %d: %w", v.Key, v.Version, newest, featureflag.ErrConflict)
			}
			var def []byte
			if v.Flag != nil {
				b, err := json.Marshal(v.Flag)
				if err != nil {
					return fmt.Errorf("encode flag %s: %w", v.Key, err)
				}
				def = b
			}
			if err := tx.QueryRow(ctx, `
				INSERT INTO flag_versions (env, key, version, definition, actor, reason, time)
				VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq`,
				v.Env, v.Key, v.Version, def, v.Actor, v.Reason, tstz(v.Time)).Scan(&v.Seq); err != nil {
				var pgErr *pgconn.PgError
				if errors.As(err, &pgErr) && pgErr.Code == "23505" {
					return fmt.Errorf("store flag %s version %d: %w", v.Key, v.Version, featureflag.ErrConflict)
				}
				return fmt.Errorf("store flag %s: %w", v.Key, err)
			}
			v.Time = timeOf(tstzPtr(v.Time))
			out[i] = v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func tstzPtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.Truncate(time.Microsecond)
	return &t
}

const flagColumns = `seq, env, key, version, definition, actor, reason, time`

// CurrentFlags returns the newest version of each of env's flags; see
// featureflag.Store.
func (s *Store) CurrentFlags(ctx context.Context, env string) ([]featureflag.Version, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT DISTINCT ON (key) `+flagColumns+` FROM flag_versions
		WHERE env = $1 ORDER BY key, version DESC`, env)
	if err != nil {
		return nil, fmt.Errorf("flags of %s: %w", env, err)
	}
	return pgx.CollectRows(rows, scanFlagVersion)
}

// FlagHistory returns every version of one flag, oldest first.
func (s *Store) FlagHistory(ctx context.Context, env, key string) ([]featureflag.Version, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+flagColumns+` FROM flag_versions WHERE env = $1 AND key = $2 ORDER BY version`, env, key)
	if err != nil {
		return nil, fmt.Errorf("history of flag %s: %w", key, err)
	}
	return pgx.CollectRows(rows, scanFlagVersion)
}

// FlagsSeq returns the largest Seq of env's flag versions, 0 for none.
func (s *Store) FlagsSeq(ctx context.Context, env string) (int64, error) {
	var seq int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM flag_versions WHERE env = $1`, env).Scan(&seq); err != nil {
		return 0, fmt.Errorf("flags of %s: %w", env, err)
	}
	return seq, nil
}

func scanFlagVersion(row pgx.CollectableRow) (featureflag.Version, error) {
	var (
		v    featureflag.Version
		def  []byte
		when *time.Time
	)
	if err := row.Scan(&v.Seq, &v.Env, &v.Key, &v.Version, &def, &v.Actor, &v.Reason, &when); err != nil {
		return v, err
	}
	v.Time = timeOf(when)
	if def != nil {
		v.Flag = new(featureflag.Flag)
		if err := json.Unmarshal(def, v.Flag); err != nil {
			return v, fmt.Errorf("decode flag %s version %d: %w", v.Key, v.Version, err)
		}
	}
	return v, nil
}
