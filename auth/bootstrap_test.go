package auth_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/store/sqlite"
)

func TestBootstrap(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlite.Open(t.Context(), filepath.Join(dir, "gantry.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	path := filepath.Join(dir, auth.AdminTokenFile)
	now := time.Now()

	created, err := auth.Bootstrap(t.Context(), s, path, now)
	if err != nil || !created {
		t.Fatalf("first Bootstrap = %v, %v; want a token issued", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("%s mode = %o, want 600", path, mode)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(b))
	p, err := auth.Authenticate(t.Context(), s, secret, now.Add(24*365*time.Hour))
	if err != nil {
		t.Fatalf("authenticate with the bootstrap token a year later: %v", err)
	}
	if p.Role("production") != auth.Admin || p.Role("*") != auth.Admin {
		t.Errorf("bootstrap principal %+v, want admin on every environment", p)
	}

	created, err = auth.Bootstrap(t.Context(), s, path, now)
	if err != nil || created {
		t.Errorf("second Bootstrap = %v, %v; want nothing issued when a token exists", created, err)
	}
	if b2, _ := os.ReadFile(path); string(b2) != string(b) {
		t.Error("second Bootstrap rewrote the token file")
	}
}

func TestIssue_rejects(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "gantry.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, req := range map[string]auth.IssueRequest{
		"no grants":    {Name: "ci"},
		"empty env":    {Name: "ci", Grants: auth.Grants(auth.Viewer, "")},
		"no role":      {Name: "ci", Grants: []auth.Grant{{Env: "staging"}}},
		"negative ttl": {Name: "ci", Grants: auth.Grants(auth.Viewer, "staging"), TTL: -time.Hour},
	} {
		if _, _, err := auth.Issue(t.Context(), s, req); err == nil {
			t.Errorf("Issue with %s: no error", name)
		}
	}
	ts, _ := s.ListTokens(t.Context())
	if len(ts) != 0 {
		t.Errorf("rejected Issue calls stored %d tokens", len(ts))
	}
}

func TestEnsureToken(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "gantry.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	secret := auth.NewSecret()
	for i := range 2 { // the second call finds it stored
		if err := auth.EnsureToken(t.Context(), s, secret, "demo", auth.Grants(auth.Admin, "*"), time.Now()); err != nil {
			t.Fatalf("EnsureToken %d: %v", i+1, err)
		}
	}
	ts, _ := s.ListTokens(t.Context())
	if len(ts) != 1 {
		t.Fatalf("%d tokens stored, want 1", len(ts))
	}
	if _, err := auth.Authenticate(t.Context(), s, secret, time.Now()); err != nil {
		t.Errorf("authenticate with the ensured secret: %v", err)
	}
	if err := auth.EnsureToken(t.Context(), s, "short", "x", auth.Grants(auth.Admin, "*"), time.Now()); err == nil {
		t.Error("EnsureToken with a short secret: no error")
	}
}
