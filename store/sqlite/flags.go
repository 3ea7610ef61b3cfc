package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/gantry-dev/gantry/featureflag"
)

var _ featureflag.Store = (*Store)(nil)

// AppendFlagVersions stores flag versions in one transaction; see
// featureflag.Store.
func (s *Store) AppendFlagVersions(ctx context.Context, vs []featureflag.Version) (_ []featureflag.Version, err error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store flags: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	out := make([]featureflag.Version, len(vs))
	for i, v := range vs {
		var newest int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM flag_versions WHERE env = ? AND key = ?`, v.Env, v.Key).Scan(&newest); err != nil {
			return nil, fmt.Errorf("store flag %s: %w", v.Key, err)
		}
		if v.Version != newest+1 {
			return nil, fmt.Errorf("store flag %s version %d: it is at version %d: %w", v.Key, v.Version, newest, featureflag.ErrConflict)
		}
		def, err := flagJSON(v.Flag)
		if err != nil {
			return nil, err
		}
		if err := tx.QueryRowContext(ctx, `
			INSERT INTO flag_versions (env, key, version, definition, actor, reason, time)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
			v.Env, v.Key, v.Version, def, v.Actor, v.Reason, micros(v.Time)).Scan(&v.Seq); err != nil {
			return nil, fmt.Errorf("store flag %s: %w", v.Key, err)
		}
		v.Time = storedTime(v.Time)
		out[i] = v
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store flags: commit: %w", err)
	}
	return out, nil
}

// flagJSON encodes a flag for the definition column; nil: NULL.
func flagJSON(f *featureflag.Flag) (any, error) {
	if f == nil {
		return nil, nil
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("encode flag %s: %w", f.Key, err)
	}
	return string(b), nil
}

const flagColumns = `seq, env, key, version, definition, actor, reason, time`

// CurrentFlags returns the newest version of each of env's flags; see
// featureflag.Store.
func (s *Store) CurrentFlags(ctx context.Context, env string) ([]featureflag.Version, error) {
	rows, err := s.reader.QueryContext(ctx, `
		SELECT `+flagColumns+` FROM flag_versions v
		WHERE env = ? AND version = (SELECT max(version) FROM flag_versions w WHERE w.env = v.env AND w.key = v.key)
		ORDER BY key`, env)
	if err != nil {
		return nil, fmt.Errorf("flags of %s: %w", env, err)
	}
	return collect(rows, scanFlagVersion)
}

// FlagHistory returns every version of one flag, oldest first.
func (s *Store) FlagHistory(ctx context.Context, env, key string) ([]featureflag.Version, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+flagColumns+` FROM flag_versions WHERE env = ? AND key = ? ORDER BY version`, env, key)
	if err != nil {
		return nil, fmt.Errorf("history of flag %s: %w", key, err)
	}
	return collect(rows, scanFlagVersion)
}

// FlagsSeq returns the largest Seq of env's flag versions, 0 for none.
func (s *Store) FlagsSeq(ctx context.Context, env string) (int64, error) {
	var seq int64
	if err := s.reader.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM flag_versions WHERE env = ?`, env).Scan(&seq); err != nil {
		return 0, fmt.Errorf("flags of %s: %w", env, err)
	}
	return seq, nil
}

func scanFlagVersion(row scanner) (featureflag.Version, error) {
	var (
		v    featureflag.Version
		def  sql.NullString
		when sql.NullInt64
	)
	if err := row.Scan(&v.Seq, &v.Env, &v.Key, &v.Version, &def, &v.Actor, &v.Reason, &when); err != nil {
		return v, err
	}
	v.Time = timeOf(when)
	if def.Valid {
		v.Flag = new(featureflag.Flag)
		if err := json.Unmarshal([]byte(def.String), v.Flag); err != nil {
			return v, fmt.Errorf("decode flag %s version %d: %w", v.Key, v.Version, err)
		}
	}
	return v, nil
}
