package dbbackup

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/internal/pgtest"
	"github.com/gantry-dev/gantry/migrate"
	"github.com/jackc/pgx/v5"
)

const fixtureMigrations = "../migrate/testdata/migrations"

func migrated(t *testing.T, c *pgtest.Cluster, db string) (url, dir string) {
	t.Helper()
	url = c.CreateDB(t, db)
	dir = t.TempDir()
	ents, err := os.ReadDir(fixtureMigrations)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(fixtureMigrations, e.Name()))
		os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
	}
	runMigrate(t, url, dir, nil)
	return url, dir
}

func runMigrate(t *testing.T, url, dir string, extra map[string]string) error {
	t.Helper()
	for name, body := range extra {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	m, err := migrate.Open(ctx, migrate.Options{URL: url, Locations: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(ctx)
	_, err = m.Migrate(ctx, migrate.PlanOptions{})
	if extra == nil && err != nil {
		t.Fatal(err)
	}
	return err
}

func exec1(t *testing.T, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// dump is pg_dump's plain dump (schema and data) without comments and the
// per-run \restrict keys, so two dumps of equal databases are equal.
func dump(t *testing.T, url string) string {
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

func TestStore(t *testing.T) {
	c := pgtest.Start(t)
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH", tool)
		}
	}
	ctx := context.Background()

	t.Run("backup records a manifest", func(t *testing.T) {
		url, _ := migrated(t, c, "b1")
		s, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.Backup(ctx, url, BackupOptions{AppRevision: "v1.2.3"})
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(s.Dir, m.File))
		if err != nil {
			t.Fatal(err)
		}
		if m.SizeBytes != fi.Size() || len(m.SHA256) != 64 || m.SchemaVersion != "3" || m.AppRevision != "v1.2.3" ||
			m.Database != "b1" || m.Format != "custom" || m.CreatedAt.IsZero() {
			t.Errorf("manifest = %+v", m)
		}
		for table, want := range map[string]int64{"public.users": 2, "public.orders": 3, "public.flyway_schema_history": 5} {
			if got := m.TableRows[table]; got != want {
				t.Errorf("rows of %s = %d, want %d", table, got, want)
			}
		}
		list, err := s.List()
		if err != nil || len(list) != 1 || list[0].ID != m.ID {
			t.Errorf("List = %v, %v; want the one backup", list, err)
		}
	})

	t.Run("restore after a failed migration gives back the same database", func(t *testing.T) {
		url, dir := migrated(t, c, "r1")
		before := dump(t, url)
		s, _ := Open(t.TempDir())
		m, err := s.Backup(ctx, url, BackupOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Data changes, then a non-transactional migration that builds one
		// index and fails on the next: the database is half-changed and the
		// history records a failure.
		exec1(t, url, "DELETE FROM orders WHERE id = 3; UPDATE users SET name = 'x'")
		err = runMigrate(t, url, dir, map[string]string{"V4__Indexes.sql": "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n" +
			"CREATE INDEX CONCURRENTLY bad_idx ON nosuch (x);\n"})
		if !errors.Is(err, migrate.ErrMigrationFailed) {
			t.Fatalf("migrate = %v, want ErrMigrationFailed", err)
		}
		if dump(t, url) == before {
			t.Fatal("the failed migration changed nothing; the test proves nothing")
		}
		res, err := s.Restore(ctx, m.ID, url)
		if err != nil {
			t.Fatal(err)
		}
		if res.Duration <= 0 {
			t.Errorf("restore duration = %v", res.Duration)
		}
		if after := dump(t, url); after != before {
			t.Errorf("dump after restore differs from the dump before:\n%s", diff(before, after))
		}
	})

	t.Run("a corrupted backup is refused", func(t *testing.T) {
		url, _ := migrated(t, c, "c1")
		s, _ := Open(t.TempDir())
		m, err := s.Backup(ctx, url, BackupOptions{})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(s.Dir, m.File)
		good, _ := os.ReadFile(path)
		exec1(t, url, "INSERT INTO users (name) VALUES ('after')")
		before := dump(t, url)
		for name, bad := range map[string][]byte{
			"truncated": good[:len(good)/2],
			"altered":   append(append([]byte{}, good[:len(good)-10]...), []byte("0123456789")...),
		} {
			t.Run(name, func(t *testing.T) {
				os.WriteFile(path, bad, 0o600)
				_, err := s.Restore(ctx, m.ID, url)
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), m.File) {
					t.Errorf("restore = %v, want ErrCorrupt naming %s", err, m.File)
				}
				if dump(t, url) != before {
					t.Error("the database changed")
				}
			})
		}
		if _, err := s.Restore(ctx, "20990101T000000Z-nosuch", url); !errors.Is(err, ErrNotFound) {
			t.Errorf("restore of an unknown ID = %v, want ErrNotFound", err)
		}
	})

	t.Run("drill restores into a scratch database and reports timing", func(t *testing.T) {
		url, _ := migrated(t, c, "d1")
		s, _ := Open(t.TempDir())
		old, err := s.Backup(ctx, url, BackupOptions{})
		if err != nil {
			t.Fatal(err)
		}
		exec1(t, url, "INSERT INTO users (name) VALUES ('later')")
		newest, err := s.Backup(ctx, url, BackupOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Corrupt the newest: the drill must fall back to the older one.
		os.WriteFile(filepath.Join(s.Dir, newest.File), []byte("garbage"), 0o600)
		now := old.CreatedAt.Add(90 * time.Minute)
		rep, err := s.Drill(ctx, DrillOptions{URL: url, Scratch: "drill_d1", Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("drill: backup %s restored in %v, RPO %v", rep.BackupID, rep.RestoreTime, rep.RPO)
		if rep.BackupID != old.ID || len(rep.Skipped) != 1 || rep.Skipped[0].ID != newest.ID {
			t.Errorf("drill used %s skipping %v; want %s skipping %s", rep.BackupID, rep.Skipped, old.ID, newest.ID)
		}
		if !rep.OK || len(rep.Tables) != len(old.TableRows) || rep.Tables[0].Got < 0 {
			t.Errorf("drill tables = %+v mismatches %+v", rep.Tables, rep.Mismatches)
		}
		if rep.RestoreTime <= 0 || !rep.MeetsRTO || rep.RPO != 90*time.Minute || rep.MeetsRPO {
			t.Errorf("drill timing = restore %v (meets %v), RPO %v (meets %v); want >0, true, 1h30m, false",
				rep.RestoreTime, rep.MeetsRTO, rep.RPO, rep.MeetsRPO)
		}
		conn, _ := pgx.Connect(ctx, url)
		defer conn.Close(ctx)
		var n int
		conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = 'drill_d1'").Scan(&n)
		if n != 0 {
			t.Error("the scratch database was left behind")
		}
	})

	t.Run("drill with no backups", func(t *testing.T) {
		s, _ := Open(t.TempDir())
		if _, err := s.Drill(ctx, DrillOptions{URL: c.URL("postgres")}); !errors.Is(err, ErrNoBackups) {
			t.Errorf("drill = %v, want ErrNoBackups", err)
		}
	})
}

func diff(a, b string) string {
	in := map[string]bool{}
	for _, l := range strings.Split(a, "\n") {
		in[l] = true
	}
	out := map[string]bool{}
	for _, l := range strings.Split(b, "\n") {
		out[l] = true
	}
	var d []string
	for _, l := range strings.Split(a, "\n") {
		if !out[l] {
			d = append(d, "- "+l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !in[l] {
			d = append(d, "+ "+l)
		}
	}
	return strings.Join(d, "\n")
}
