package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/dbbackup"
	"github.com/gantry-dev/gantry/internal/pgtest"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/server"
)

// startBareServer runs a server with opts (APIAddr filled in, and DataDir
// and Logf when empty), applies specText and deploys nothing.
func startBareServer(t *testing.T, opts server.Options, specText string) *env {
	t.Helper()
	ctx := context.Background()
	opts.APIAddr, opts.StopInstancesOnExit, opts.Interval = "127.0.0.1:0", true, 100*time.Millisecond
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	opts.Token = testToken
	s, err := server.New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stop: %v", err)
		}
	})
	c, err := client.New(client.Options{Server: s.APIURL(), Actor: "test", Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, "gantry.yaml", []byte(specText)); err != nil {
		t.Fatal(err)
	}
	return &env{srv: s, c: c}
}

func TestServer_DatabaseSchedule(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	cluster := pgtest.Start(t)
	if _, err := exec.LookPath("pg_dump"); err != nil {
		t.Skip("pg_dump not on PATH: the database tests need the PostgreSQL client programs")
	}

	t.Run("scheduled backups are taken and pruned", func(t *testing.T) {
		url := cluster.CreateDB(t, "sched")
		backups := t.TempDir()
		e := startBareServer(t, server.Options{Backups: server.BackupSchedule{Interval: 100 * time.Millisecond, KeepLast: 2, MaxAge: time.Nanosecond, Drill: true}},
			dbAppSpec(url, t.TempDir(), backups))
		ctx := context.Background()
		deadline := time.Now().Add(2 * time.Minute)
		var first string
		for {
			evs, err := e.c.Events(ctx, "web", "prod", 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			pruned, drilled := false, false
			for _, ev := range evs {
				switch ev.Reason {
				case server.ReasonDrillPassed:
					drilled = ev.Type == rollout.Normal && strings.Contains(ev.Message, "scheduled drill: backup ")
				case server.ReasonDrillFailed, server.ReasonDrillTargetMissed:
					t.Fatalf("scheduled drill within its default targets: %s %s: %s", ev.Type, ev.Reason, ev.Message)
				}
				if ev.Reason == rollout.ReasonDatabaseBackedUp && first == "" {
					first = strings.Fields(strings.TrimPrefix(ev.Message, "scheduled backup "))[0]
					first = strings.TrimSuffix(first, ":")
				}
				if ev.Reason == "BackupsPruned" {
					pruned = true
				}
				if ev.Reason == "ScheduledBackupFailed" {
					t.Fatalf("scheduled backup failed: %s", ev.Message)
				}
			}
			if pruned && drilled {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no backups pruned and drilled within 2 minutes; events: %+v", evs)
			}
			time.Sleep(100 * time.Millisecond)
		}
		store, _ := dbbackup.Open(backups)
		if _, err := store.Get(first); err == nil {
			t.Errorf("the first scheduled backup %s is still there after pruning to the newest 2", first)
		}
		if _, err := os.Stat(filepath.Join(backups, first+".dump")); err == nil {
			t.Errorf("the dump of pruned backup %s is still there", first)
		}
	})

	t.Run("a scheduled drill that misses its target raises a Warning", func(t *testing.T) {
		url := cluster.CreateDB(t, "drillmiss")
		e := startBareServer(t, server.Options{Backups: server.BackupSchedule{Interval: 100 * time.Millisecond, Drill: true, DrillRTO: time.Nanosecond}},
			dbAppSpec(url, t.TempDir(), t.TempDir()))
		ev := waitEvent(t, e, server.ReasonDrillTargetMissed)
		if ev.Type != rollout.Warning || !strings.Contains(ev.Message, "RTO: restore took") || !strings.Contains(ev.Message, "target 1ns") {
			t.Errorf("event %s %s: %q; want a Warning naming the missed RTO and its target", ev.Type, ev.Reason, ev.Message)
		}
	})

	t.Run("missing migrations directory fails the rollout before any backup", func(t *testing.T) {
		url := cluster.CreateDB(t, "nodir")
		missing := filepath.Join(t.TempDir(), "no-such-dir")
		e := startBareServer(t, server.Options{Backups: server.BackupSchedule{Disabled: true}}, dbAppSpec(url, missing, t.TempDir()))
		r := e.deploy(t, "v1")
		if r.Phase != rollout.RolledBack || r.Reason != rollout.ReasonMigrationFailed ||
			!strings.Contains(r.Message, "migrations directory "+missing+` (spec.database.migrations "`+missing+`") does not exist`) {
			t.Errorf("rollout ended %s %s: %s; want RolledBack MigrationFailed naming the missing directory", r.Phase, r.Reason, r.Message)
		}
		if n := len(e.srv.Instances("web", "prod")); n != 0 {
			t.Errorf("%d instances run; the revision must not start", n)
		}
	})
}

// waitEvent waits up to 2 minutes for an event of app web in prod with reason.
func waitEvent(t *testing.T, e *env, reason rollout.Reason) rollout.Event {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		evs, err := e.c.Events(context.Background(), "web", "prod", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Reason == reason {
				return ev
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event within 2 minutes; events: %+v", reason, evs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
