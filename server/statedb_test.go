package server

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/leader"
)

func TestParseStateDatabase(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("s3cr'et\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, raw, pwFile string
		want              StateDatabase
		redacted          string
	}{
		{"default", "", "", StateDatabase{Kind: SQLite, Path: "/data/gantry.db"}, "sqlite:///data/gantry.db"},
		{"sqlite absolute", "sqlite:///var/lib/g.db", "", StateDatabase{Kind: SQLite, Path: "/var/lib/g.db"}, "sqlite:///var/lib/g.db"},
		{"postgres url", "postgres://gantry:pw@db:5432/gantry", "",
			StateDatabase{Kind: PostgreSQL, URL: "postgres://gantry:pw@db:5432/gantry"}, "postgres://gantry:xxxxx@db:5432/gantry"},
		{"password in query", "postgresql://db/gantry?user=g&password=pw", "",
			StateDatabase{Kind: PostgreSQL, URL: "postgresql://db/gantry?user=g&password=pw"}, "postgresql://db/gantry?password=xxxxx&user=g"},
		{"password file, url", "postgres://gantry@db/gantry", pwFile,
			StateDatabase{Kind: PostgreSQL, URL: "postgres://gantry:s3cr%27et@db/gantry"}, "postgres://gantry:xxxxx@db/gantry"},
		{"key=value", "host=db dbname=gantry password=pw", "",
			StateDatabase{Kind: PostgreSQL, URL: "host=db dbname=gantry password=pw"}, "host=db dbname=gantry password=xxxxx"},
		{"password file, key=value", "host=db dbname=gantry", pwFile,
			StateDatabase{Kind: PostgreSQL, URL: `host=db dbname=gantry password='s3cr\'et'`}, "host=db dbname=gantry password=xxxxx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseStateDatabase(tc.raw, "/data", tc.pwFile)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("ParseStateDatabase = %+v, want %+v", got, tc.want)
			}
			if r := got.Redacted(); r != tc.redacted {
				t.Errorf("Redacted = %q, want %q", r, tc.redacted)
			}
		})
	}
	for _, raw := range []string{"mysql://u:hunter2@db/x", "sqlite://"} {
		_, err := ParseStateDatabase(raw, "/data", "")
		if err == nil {
			t.Errorf("ParseStateDatabase(%q): no error", raw)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseStateDatabase(%q) error shows the password: %v", raw, err)
		}
	}
}

func TestNew_UnreachableDatabaseErrorHidesPassword(t *testing.T) {
	db, err := ParseStateDatabase("postgres://gantry:hunter2@127.0.0.1:1/gantry?connect_timeout=5", "", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), Options{DataDir: t.TempDir(), APIAddr: "127.0.0.1:0", StateDatabase: db})
	if err == nil {
		t.Fatal("New with an unreachable database: no error")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestNew_SecondServerOnOneDataDirIsRefused(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	a, err := New(ctx, Options{DataDir: data, APIAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("first server: %v", err)
		}
	}()
	if _, err := New(ctx, Options{DataDir: data, APIAddr: "127.0.0.1:0"}); !errors.Is(err, leader.ErrLocked) {
		t.Errorf("second server on %s: err = %v, want leader.ErrLocked", data, err)
	}
}
