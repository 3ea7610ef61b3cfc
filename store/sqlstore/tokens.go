package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gantry-dev/gantry/auth"
)

// CreateToken stores a new token; a duplicate ID or hash is auth.ErrConflict.
func (s *Store) CreateToken(ctx context.Context, t auth.Token) error {
	grants := t.Grants
	if grants == nil {
		grants = []auth.Grant{}
	}
	b, err := json.Marshal(grants)
	if err != nil {
		return fmt.Errorf("create token %s: encode grants: %w", t.Name, err)
	}
	d := s.Dialect.Time
	_, err = s.DB.Exec(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, string(b), t.Hash, d(t.CreatedAt), t.CreatedBy, d(t.ExpiresAt), d(t.RevokedAt))
	if err != nil && s.Dialect.Duplicate(err) {
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
	t, err := scanToken(s.DB.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`, hash))
	if errors.Is(err, ErrNoRows) {
		return auth.Token{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.Token{}, fmt.Errorf("look up token: %w", err)
	}
	return t, nil
}

// ListTokens returns every token, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]auth.Token, error) {
	return list(ctx, s.DB, "tokens", scanToken, `SELECT `+tokenColumns+` FROM tokens ORDER BY created_at, id`)
}

// RevokeToken marks the token revoked at at (keeping an earlier
// revocation) and returns it; an unknown id is auth.ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) (auth.Token, error) {
	t, err := scanToken(s.DB.ExecRow(ctx, `
		UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?
		RETURNING `+tokenColumns, s.Dialect.Time(at), id))
	if errors.Is(err, ErrNoRows) {
		return auth.Token{}, fmt.Errorf("revoke token %s: %w", id, auth.ErrNotFound)
	}
	if err != nil {
		return auth.Token{}, fmt.Errorf("revoke token %s: %w", id, err)
	}
	return t, nil
}

func scanToken(row Row) (auth.Token, error) {
	var (
		t      auth.Token
		grants []byte
	)
	err := row.Scan(&t.ID, &t.Name, &grants, &t.Hash, Time{&t.CreatedAt}, &t.CreatedBy, Time{&t.ExpiresAt}, Time{&t.RevokedAt})
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal(grants, &t.Grants); err != nil {
		return t, fmt.Errorf("token %s: decode grants: %w", t.ID, err)
	}
	return t, nil
}
