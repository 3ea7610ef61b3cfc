package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gantry-dev/gantry/auth"
)

var _ auth.TokenStore = (*Store)(nil)

// CreateToken stores a new token; a duplicate ID or hash is auth.ErrConflict.
func (s *Store) CreateToken(ctx context.Context, t auth.Token) error {
	grants := t.Grants
	if grants == nil {
		grants = []auth.Grant{}
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO tokens (id, name, grants, hash, created_at, created_by, expires_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		t.ID, t.Name, grants, t.Hash, tstz(t.CreatedAt), t.CreatedBy, tstz(t.ExpiresAt), tstz(t.RevokedAt))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
		return fmt.Errorf("create token %s: %w", t.Name, auth.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create token %s: %w", t.Name, err)
	}
	return nil
}

const tokenColumns = `id, name, grants, hash, created_at, created_by, expires_at, revoked_at`

// TokenByHash returns the token with that hash, or auth.ErrNotFound.
func (s *Store) TokenByHash(ctx context.Context, hash string) (auth.Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Token{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.Token{}, fmt.Errorf("look up token: %w", err)
	}
	return t, nil
}

// ListTokens returns every token, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]auth.Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	ts, err := collect(rows, scanToken)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return ts, nil
}

// RevokeToken marks the token revoked at at (keeping an earlier
// revocation) and returns it; an unknown id is auth.ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) (auth.Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `
		UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2
		RETURNING `+tokenColumns, tstz(at), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Token{}, fmt.Errorf("revoke token %s: %w", id, auth.ErrNotFound)
	}
	if err != nil {
		return auth.Token{}, fmt.Errorf("revoke token %s: %w", id, err)
	}
	return t, nil
}

func scanToken(row pgx.Row) (auth.Token, error) {
	var (
		t                         auth.Token
		created, expires, revoked *time.Time
	)
	if err := row.Scan(&t.ID, &t.Name, &t.Grants, &t.Hash, &created, &t.CreatedBy, &expires, &revoked); err != nil {
		return t, err
	}
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = timeOf(created), timeOf(expires), timeOf(revoked)
	return t, nil
}
