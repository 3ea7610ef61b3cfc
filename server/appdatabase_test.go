package server_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/dbbackup"
	"github.com/gantry-dev/gantry/internal/pgtest"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/jackc/pgx/v5"
)

// dbAppSpec is appSpec with a database: url as a literal value, the
// migrations and backups in the test's directories.
func dbAppSpec(url, migrations, backups string) string {
	return appSpec("127.0.0.1:0", 60) + `    database:
      url: {value: '` + url + `'}
      migrations: ` + migrations + `
      backupDir: ` + backups + `
`
}

// pgDump is pg_dump's plain dump (schema and data) without comments and
// the per-run \restrict keys, so dumps of equal databases are equal.
func pgDump(t *testing.T, url string) string {
	t.Helper()
	out, err := exec.Command("pg_dump", "--no-comments", "--dbname", url).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(l, "--") && !strings.HasPrefix(l, `\restrict`) && !strings.HasPrefix(l, `\unrestrict`) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// appliedVersions lists the schema history's successful versioned rows.
func appliedVersions(t *testing.T, url string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT version FROM flyway_schema_history WHERE success AND version IS NOT NULL AND type = 'SQL' ORDER BY installed_rank")
	if err != nil {
		t.Fatal(err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// wantRolloutEvent checks that rollout id has an event with reason whose
// message contains text, and returns that message.
func (e *env) wantRolloutEvent(t *testing.T, id int64, reason rollout.Reason, text string) string {
	t.Helper()
	evs, err := e.c.Events(context.Background(), "web", "prod", 0, id)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, ev := range evs {
		if ev.Reason == reason && strings.Contains(ev.Message, text) {
			return ev.Message
		}
		seen = append(seen, string(ev.Reason)+": "+ev.Message)
	}
	t.Errorf("rollout %d: no %s event mentioning %q; events:\n%s", id, reason, text, strings.Join(seen, "\n"))
	return ""
}

// TestServer_DatabaseMigrations runs rollouts of an app with a database on
// a real PostgreSQL and real sample processes: a failed migration rolls
// back and restores the database exactly; a good one proceeds; then a
// database rollback restores the backup taken before it and restarts the
// revision of that backup, while the proxy answers 503 + Retry-After.
func TestServer_DatabaseMigrations(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and sample processes")
	}
	cluster := pgtest.Start(t)
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH: the database tests need the PostgreSQL client programs", tool)
		}
	}
	url := cluster.CreateDB(t, "web")
	migrations, backups := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(migrations, "V1__Users.sql"), "CREATE TABLE users (id int PRIMARY KEY, name text);\nINSERT INTO users VALUES (1, 'ada');\n")
	e := startServerWith(t, dbAppSpec(url, migrations, backups))
	if got := appliedVersions(t, url); strings.Join(got, ",") != "1" {
		t.Fatalf("after the first deploy the history has %v, want [1]", got)
	}

	t.Run("failed migration rolls back and restores", func(t *testing.T) {
		before := pgDump(t, url)
		// V2 succeeds (a new table and data changes), V3 fails: the
		// restore must undo V2 as well.
		writeFile(t, filepath.Join(migrations, "V2__Orders.sql"), "CREATE TABLE orders (id int);\nUPDATE users SET name = 'changed';\n")
		writeFile(t, filepath.Join(migrations, "V3__Broken.sql"), "ALTER TABLE nosuch ADD COLUMN x int;\n")
		defer os.Remove(filepath.Join(migrations, "V3__Broken.sql"))
		r := e.deploy(t, "v2")
		if r.Phase != rollout.RolledBack || r.Reason != rollout.ReasonMigrationFailed || !strings.Contains(r.Message, "V3__Broken.sql") {
			t.Fatalf("rollout ended %s %s: %s; want RolledBack MigrationFailed naming V3__Broken.sql", r.Phase, r.Reason, r.Message)
		}
		if after := pgDump(t, url); after != before {
			t.Errorf("the database after the restore differs from before:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		e.wantRolloutEvent(t, r.ID, rollout.ReasonDatabaseBackedUp, "bytes in")
		e.wantRolloutEvent(t, r.ID, rollout.ReasonMigrationFailed, `relation "nosuch" does not exist`)
		e.wantRolloutEvent(t, r.ID, rollout.ReasonDatabaseRestored, "schema version 1")
		for _, in := range e.srv.Instances("web", "prod") {
			if in.Revision != 1 {
				t.Errorf("instance %s of revision %d runs; the failed revision must never start", in.ID, in.Revision)
			}
		}
	})

	var goodRollout rollout.Rollout
	t.Run("good migration proceeds", func(t *testing.T) {
		goodRollout = e.deploy(t, "v3")
		if goodRollout.Phase != rollout.Succeeded {
			t.Fatalf("rollout ended %s %s: %s", goodRollout.Phase, goodRollout.Reason, goodRollout.Message)
		}
		if got := appliedVersions(t, url); strings.Join(got, ",") != "1,2" {
			t.Errorf("history has %v, want [1 2]", got)
		}
		e.wantRolloutEvent(t, goodRollout.ID, rollout.ReasonDatabaseMigrated, "schema version 1 -> 2: applied 1 migration(s)")
	})
	if goodRollout.Phase != rollout.Succeeded {
		t.FailNow()
	}

	t.Run("rollback refuses unknown and corrupt backups", func(t *testing.T) {
		ctx := context.Background()
		if _, err := e.c.RollbackDatabase(ctx, "web", "prod", "nosuch-backup"); err == nil || !strings.Contains(err.Error(), "neither a backup") {
			t.Errorf("rollback to an unknown backup: %v, want a refusal", err)
		}
		store, _ := dbbackup.Open(backups)
		list, err := store.List()
		if err != nil || len(list) < 3 {
			t.Fatalf("backups: %v, %v; want one per rollout", list, err)
		}
		oldest := list[len(list)-1]
		if err := os.Truncate(filepath.Join(backups, oldest.File), 10); err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.RollbackDatabase(ctx, "web", "prod", oldest.ID); err == nil || !strings.Contains(err.Error(), "corrupt") {
			t.Errorf("rollback to a truncated backup: %v, want a refusal saying it is corrupt", err)
		}
	})

	t.Run("rollback restores and restarts the matching revision", func(t *testing.T) {
		ctx := context.Background()
		msg := e.wantRolloutEvent(t, goodRollout.ID, rollout.ReasonDatabaseBackedUp, "schema version 1")
		m := regexp.MustCompile(`^backup (\S+):`).FindStringSubmatch(msg)
		if m == nil {
			t.Fatalf("no backup ID in %q", msg)
		}
		// Poll the proxy during the rollback.
		proxy := "http://" + e.srv.ProxyAddr("web", "prod") + "/"
		pctx, stop := context.WithCancel(ctx)
		var mu sync.Mutex
		var maintenance int
		var badRetry []string
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 5 * time.Second}
			for pctx.Err() == nil {
				resp, err := hc.Get(proxy)
				if err != nil {
					continue
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusServiceUnavailable {
					mu.Lock()
					maintenance++
					if ra := resp.Header.Get("Retry-After"); ra != "1" {
						badRetry = append(badRetry, ra)
					}
					mu.Unlock()
				}
			}
		}()
		res, err := e.c.RollbackDatabase(ctx, "web", "prod", m[1])
		stop()
		wg.Wait()
		if err != nil {
			t.Fatalf("rollback: %v", err)
		}
		if res.BackupID != m[1] || res.SchemaVersion != "1" || res.Revision != 1 || res.RolloutID == 0 || res.StoppedInstances < 3 {
			t.Errorf("rollback = %+v, want backup %s, schema 1, revision 1 restarted by a rollout, at least the 3 replicas stopped (one still terminating from the last rollout may be counted too)", res, m[1])
		}
		if maintenance == 0 || len(badRetry) > 0 {
			t.Errorf("proxy answered 503 %d time(s) during the rollback, Retry-After wrong on %v; want 503 with Retry-After: 1", maintenance, badRetry)
		}
		if got := appliedVersions(t, url); strings.Join(got, ",") != "1" {
			t.Errorf("history after the rollback has %v, want [1]", got)
		}
		wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		r, err := e.c.WaitRollout(wctx, res.RolloutID, 100*time.Millisecond, nil)
		if err != nil || r.Phase != rollout.Succeeded || r.ToRevision != 1 {
			t.Fatalf("restart rollout: %s to revision %d: %s (%v); want Succeeded to revision 1", r.Phase, r.ToRevision, r.Message, err)
		}
		e.wantRolloutEvent(t, r.ID, rollout.ReasonMigrationSkipped, "gantry db rollback")
		if got := appliedVersions(t, url); strings.Join(got, ",") != "1" {
			t.Errorf("history after the restart has %v, want [1]: the restart must not migrate", got)
		}
		resp, err := http.Get(proxy)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("proxy after the rollback: %v %v, want 200", resp, err)
		} else {
			resp.Body.Close()
		}
		evs, _ := e.c.Events(ctx, "web", "prod", 0, 0)
		var steps []string
		for _, ev := range evs {
			switch ev.Reason {
			case "DatabaseRollbackStarted", "MaintenanceStarted", rollout.ReasonDatabaseRestored, "MaintenanceEnded":
				if ev.RolloutID == 0 {
					steps = append(steps, string(ev.Reason))
				}
			}
		}
		if want := "DatabaseRollbackStarted,MaintenanceStarted,DatabaseRestored,MaintenanceEnded"; strings.Join(steps, ",") != want {
			t.Errorf("rollback events %v, want %s", steps, want)
		}
	})
}
