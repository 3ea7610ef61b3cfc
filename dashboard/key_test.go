package dashboard

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestLoadKey_sharedFileSharesSessions is two servers given the same key
// file (a mounted Secret, say): a session one seals, the other opens; a
// server with its own key does not.
func TestLoadKey_sharedFileSharesSessions(t *testing.T) {
	shared := filepath.Join(t.TempDir(), "dashboard.key")
	k1, err := LoadKey(shared) // made on first use, mode 0600
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(shared); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Fatalf("key file %v, %v; want 32 bytes, mode 0600", fi, err)
	}
	k2, err := LoadKey(shared)
	if err != nil {
		t.Fatal(err)
	}
	own, err := LoadKey(filepath.Join(t.TempDir(), "dashboard.key"))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := newSealer(k1)
	b, _ := newSealer(k2)
	c, _ := newSealer(own)
	now := time.Now()
	cookie := a.seal(session{Secret: "gantry_x", Expires: now.Add(time.Hour).Unix(), ID: randomID()})
	got, err := b.open(cookie, now)
	if err != nil || got.Secret != "gantry_x" {
		t.Errorf("the second server opens the first's session: %+v, %v; want it open", got, err)
	}
	if a.csrf(got) != b.csrf(got) {
		t.Error("the two servers derive different CSRF tokens for one session")
	}
	if _, err := c.open(cookie, now); err == nil {
		t.Error("a server with its own key opened the session")
	}

	short := filepath.Join(t.TempDir(), "short.key")
	os.WriteFile(short, []byte("too short"), 0o600)
	if _, err := LoadKey(short); err == nil {
		t.Error("a 9-byte key file loaded; want an error saying it needs 32 bytes")
	}
}
