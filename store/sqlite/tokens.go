package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/auth"
)

var _ auth.TokenStore = (*Store)(nil)

// CreateToken stores a new token; a duplicate ID or hash is auth.ErrConflict.
func (s *Store) CreateToken(ctx context.Context, t auth.Token) error {
	grants, err := json.Marshal(t.Grants)
	if err != nil {
		return fmt.Errorf("create token %s: encode grants: %w", t.Name, err)
	}
	_, err = s.writer.ExecContext(ctx, `
		INSERT INTO tokens (id, name, grants, hash, created_at, created_by, expires_at, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, string(grants), t.Hash, micros(t.CreatedAt), t.CreatedBy, micros(t.ExpiresAt), micros(t.RevokedAt))
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE constraint failed") {
			return fmt.Errorf("create token %s: %w", t.Name, auth.ErrConflict)
		}
		return fmt.Errorf("create token %s: %w", t.Name, err)
	}
	return nil
}

const tokenColumns = `id, name, grants, hash, created_at, created_by, expires_at, revoked_at`

// TokenByHash returns the token with that hash, or auth.ErrNotFound.
func (s *Store) TokenByHash(ctx context.Context, hash string) (auth.Token, error) {
	t, err := scanToken(s.reader.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Token{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.Token{}, fmt.Errorf("look up token: %w", err)
	}
	return t, nil
}

// ListTokens returns every token, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]auth.Token, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY created_at, id`)
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
	t, err := scanToken(s.writer.QueryRowContext(ctx, `
		UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?
		RETURNING `+tokenColumns, micros(at), id))
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Token{}, fmt.Errorf("revoke token %s: %w", id, auth.ErrNotFound)
	}
	if err != nil {
		return auth.Token{}, fmt.Errorf("revoke token %s: %w", id, err)
	}
	return t, nil
}

func scanToken(row scanner) (auth.Token, error) {
	var (
		t                         auth.Token
		grants                    string
		created, expires, revoked sql.NullInt64
	)
	if err := row.Scan(&t.ID, &t.Name, &grants, &t.Hash, &created, &t.CreatedBy, &expires, &revoked); err != nil {
		return t, err
	}
	if err := json.Unmarshal([]byte(grants), &t.Grants); err != nil {
		return t, fmt.Errorf("token %s: decode grants: %w", t.ID, err)
	}
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = timeOf(created), timeOf(expires), timeOf(revoked)
	return t, nil
}
