package auth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// AdminTokenFile is the file name, in the data directory, where Bootstrap
// writes the first admin token.
const AdminTokenFile = "admin.token"

// Bootstrap issues an admin token on every environment, named "admin"
// and never expiring, when store holds no token at all, and writes its
// secret to path (mode 0600, replacing a stale file). It reports whether
// it issued one. Nothing is issued when any token exists, even a revoked
// one: recover with gantry token create --data.
func Bootstrap(ctx context.Context, store TokenStore, path string, now time.Time) (bool, error) {
	ts, err := store.ListTokens(ctx)
	if err != nil {
		return false, fmt.Errorf("bootstrap admin token: %w", err)
	}
	if len(ts) > 0 {
		return false, nil
	}
	secret, _, err := Issue(ctx, store, IssueRequest{
		Name: "admin", Grants: Grants(Admin, AllEnvironments), CreatedBy: "bootstrap", Now: now,
	})
	if err != nil {
		return false, fmt.Errorf("bootstrap admin token: %w", err)
	}
	if err := WriteSecret(path, secret); err != nil {
		return false, fmt.Errorf("bootstrap admin token: %w", err)
	}
	return true, nil
}

// WriteSecret writes secret and a newline to path with mode 0600, through
// a temporary file renamed into place.
func WriteSecret(path, secret string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".token-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// EnsureToken makes sure a token with secret (made by NewSecret) is
// stored: unless one is, it issues one named name with grants that never
// expires. A stored one is left as it is, revoked or not.
func EnsureToken(ctx context.Context, store TokenStore, secret, name string, grants []Grant, now time.Time) error {
	_, err := store.TokenByHash(ctx, HashSecret(secret))
	if err == nil {
		return nil
	}
	if !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("ensure token %s: %w", name, err)
	}
	_, _, err = Issue(ctx, store, IssueRequest{Name: name, Grants: grants, CreatedBy: "gantry", Now: now, Secret: secret})
	if err != nil && !errors.Is(err, ErrConflict) {
		return fmt.Errorf("ensure token %s: %w", name, err)
	}
	return nil
}
