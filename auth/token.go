package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Token is an API token as stored: everything but its secret.
type Token struct {
	// ID names the token publicly, such as "tok_1f2e3d4c5b6a"; revoke uses it.
	ID string `json:"id"`
	// Name says what the token is for, such as "ci"; errors show it.
	Name   string  `json:"name"`
	Grants []Grant `json:"grants"`
	// Hash is the hex SHA-256 of the secret.
	Hash      string    `json:"-"`
	CreatedAt time.Time `json:"createdAt"`
	// CreatedBy names who issued it: a token's name, or "bootstrap".
	CreatedBy string `json:"createdBy,omitempty"`
	// ExpiresAt is when it stops working; zero: never.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
	// RevokedAt is when it was revoked; zero: it is not.
	RevokedAt time.Time `json:"revokedAt,omitzero"`
}

// State says whether t works at now: "active", "expired" or "revoked".
func (t Token) State(now time.Time) string {
	switch {
	case !t.RevokedAt.IsZero():
		return "revoked"
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return "expired"
	}
	return "active"
}

// SecretPrefix starts every token secret, so secret scanners and people
// recognize one.
const SecretPrefix = "gantry_"

// NewSecret returns a fresh token secret: SecretPrefix and 256 random
// bits in base64url.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails: crypto/rand panics rather than return weak bytes
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b)
}

func newID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "tok_" + hex.EncodeToString(b)
}

// HashSecret returns the hex SHA-256 of a token's secret, as stored.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// TokenStore keeps tokens. Implementations are safe for concurrent use.
type TokenStore interface {
	// CreateToken stores a new token; a token with the same ID or Hash
	// already stored is ErrConflict.
	CreateToken(ctx context.Context, t Token) error
	// TokenByHash returns the token whose Hash is hash, or ErrNotFound.
	TokenByHash(ctx context.Context, hash string) (Token, error)
	// ListTokens returns every token, revoked and expired ones too, oldest first.
	ListTokens(ctx context.Context) ([]Token, error)
	// RevokeToken sets the token's RevokedAt to at, unless it is already
	// revoked (then it keeps the first time), and returns the token; an
	// unknown id is ErrNotFound.
	RevokeToken(ctx context.Context, id string, at time.Time) (Token, error)
}

// Errors of TokenStore, and the reasons Authenticate refuses a secret.
var (
	ErrNotFound = errors.New("no such token")
	ErrConflict = errors.New("token already exists")
	// ErrInvalidRequest: Issue was asked for a token that cannot be.
	ErrInvalidRequest = errors.New("invalid token request")
	// ErrUnauthenticated: the request carries no usable token; the
	// errors below wrap it.
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrNoToken         = fmt.Errorf("%w: no token: send Authorization: Bearer <token> (gantry CLI: --token, GANTRY_TOKEN or the config file)", ErrUnauthenticated)
	ErrInvalidToken    = fmt.Errorf("%w: the token is not valid: check it was copied whole, or create one with gantry token create", ErrUnauthenticated)
	ErrExpired         = fmt.Errorf("%w: the token has expired: create a new one with gantry token create", ErrUnauthenticated)
	ErrRevoked         = fmt.Errorf("%w: the token was revoked: create a new one with gantry token create", ErrUnauthenticated)
)

// IssueRequest describes a token to issue.
type IssueRequest struct {
	// Name says what it is for; empty: "token".
	Name string
	// Grants are required: at least one.
	Grants []Grant
	// TTL is how long it works; 0: forever.
	TTL time.Duration
	// CreatedBy names who issues it.
	CreatedBy string
	// Now is the issue time; zero: time.Now.
	Now time.Time
	// Secret is the token's secret; empty: a fresh one from NewSecret.
	// Set it only to register a secret made by NewSecret, such as one an
	// in-process client was given before the server started.
	Secret string
}

// Issue creates a token in store and returns its secret, which is never
// stored and cannot be shown again.
func Issue(ctx context.Context, store TokenStore, req IssueRequest) (secret string, t Token, err error) {
	if len(req.Grants) == 0 {
		return "", Token{}, fmt.Errorf("%w: no grants: give a role and at least one environment (--role deployer --env staging)", ErrInvalidRequest)
	}
	for _, g := range req.Grants {
		if _, ok := roleNames[g.Role]; !ok {
			return "", Token{}, fmt.Errorf("%w: %v is not a role: use viewer, deployer, approver or admin", ErrInvalidRequest, g.Role)
		}
		if strings.TrimSpace(g.Env) == "" {
			return "", Token{}, fmt.Errorf("%w: empty environment name: name one, or \"*\" for every environment", ErrInvalidRequest)
		}
	}
	if req.TTL < 0 {
		return "", Token{}, fmt.Errorf("%w: expiry %v is negative: give a duration such as 720h, or 0 for never", ErrInvalidRequest, req.TTL)
	}
	if req.Name == "" {
		req.Name = "token"
	}
	if req.Now.IsZero() {
		req.Now = time.Now()
	}
	secret = req.Secret
	if secret == "" {
		secret = NewSecret()
	} else if len(secret) < len(SecretPrefix)+43 {
		return "", Token{}, fmt.Errorf("%w: the given secret is too short to be one from NewSecret", ErrInvalidRequest)
	}
	t = Token{
		ID: newID(), Name: req.Name, Grants: req.Grants, Hash: HashSecret(secret),
		CreatedAt: req.Now.UTC().Truncate(time.Microsecond), CreatedBy: req.CreatedBy,
	}
	if req.TTL > 0 {
		t.ExpiresAt = t.CreatedAt.Add(req.TTL)
	}
	if err := store.CreateToken(ctx, t); err != nil {
		return "", Token{}, fmt.Errorf("issue token %s: %w", t.Name, err)
	}
	return secret, t, nil
}

// Authenticate returns the principal a secret stands for at now, or an
// error wrapping ErrUnauthenticated (ErrNoToken, ErrInvalidToken,
// ErrExpired, ErrRevoked) or the store's error.
func Authenticate(ctx context.Context, store TokenStore, secret string, now time.Time) (Principal, error) {
	if secret == "" {
		return Principal{}, ErrNoToken
	}
	hash := HashSecret(secret)
	t, err := store.TokenByHash(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return Principal{}, ErrInvalidToken
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	// The lookup was by hash; compare again in constant time so a store
	// with a case-folding or prefix index cannot let a near miss through.
	if subtle.ConstantTimeCompare([]byte(t.Hash), []byte(hash)) != 1 {
		return Principal{}, ErrInvalidToken
	}
	switch t.State(now) {
	case "revoked":
		return Principal{}, ErrRevoked
	case "expired":
		return Principal{}, ErrExpired
	}
	return Principal{TokenID: t.ID, Name: t.Name, Grants: t.Grants}, nil
}

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header value, "" when there is none.
func BearerToken(header string) string {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}
