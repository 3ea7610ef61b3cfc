package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/internal/pgtest"
)

func copyMigrations(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := "../../migrate/testdata/migrations"
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCLI_DB(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	c := pgtest.Start(t)
	if _, err := exec.LookPath("pg_dump"); err != nil {
		t.Skip("pg_dump not on PATH")
	}
	dir, backups := copyMigrations(t), t.TempDir()
	env := []string{"GANTRY_DATABASE_URL=" + c.CreateDB(t, "cli")}
	db := func(args ...string) (string, string, int) {
		t.Helper()
		return run(t, env, append([]string{"db", "--locations", dir, "--backup-dir", backups}, args...)...)
	}
	if _, stderr, code := db("migrate"); code != 0 {
		t.Fatalf("db migrate: exit %d: %s", code, stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "V1.05__Late.sql"), []byte("CREATE TABLE late (a int);\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("info text", func(t *testing.T) {
		out, stderr, code := db("info")
		if code != 0 {
			t.Fatalf("db info: exit %d: %s", code, stderr)
		}
		table, ignored, _ := strings.Cut(out, "Ignored")
		for _, l := range strings.Split(table, "\n") {
			if got, want := strings.Contains(l, "[non-transactional]"), strings.Contains(l, "Index user names"); got != want {
				t.Errorf("line %q: marked non-transactional = %v, want %v", l, got, want)
			}
			if strings.Contains(l, "1.05") {
				t.Errorf("the ignored file is in the table: %q", l)
			}
		}
		if !strings.Contains(ignored, "1.05  V1.05__Late.sql: older than the current version 3 and never applied") ||
			!strings.Contains(ignored, "--out-of-order") {
			t.Errorf("db info lists ignored files as:\n%s\nwant 1.05 with why and what to do", ignored)
		}
		if strings.Contains(out, "gap:") {
			t.Errorf("db info reports a gap for an ignored file:\n%s", out)
		}
	})

	t.Run("info json", func(t *testing.T) {
		out, stderr, code := db("info", "-o", "json")
		if code != 0 {
			t.Fatalf("db info -o json: exit %d: %s", code, stderr)
		}
		var got struct {
			Migrations []infoJSON `json:"migrations"`
			Ignored    []infoJSON `json:"ignored"`
			Gaps       []string   `json:"gaps"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v in %s", err, out)
		}
		for _, m := range got.Migrations {
			if want := m.Version == "3"; m.NonTransactional != want {
				t.Errorf("%s %s: non_transactional = %v, want %v", m.Category, m.Version, m.NonTransactional, want)
			}
		}
		if len(got.Ignored) != 1 || got.Ignored[0].Version != "1.05" || got.Ignored[0].State != "Ignored" ||
			!strings.Contains(got.Ignored[0].Reason, "older than the current version 3") {
			t.Errorf("ignored = %+v, want 1.05 with its reason", got.Ignored)
		}
		if len(got.Gaps) != 0 {
			t.Errorf("gaps = %v, want none", got.Gaps)
		}
	})

	t.Run("drill exit codes", func(t *testing.T) {
		if _, stderr, code := db("backup"); code != 0 {
			t.Fatalf("db backup: exit %d: %s", code, stderr)
		}
		if out, stderr, code := db("drill"); code != 0 {
			t.Errorf("db drill within its targets: exit %d\n%s%s", code, out, stderr)
		}
		for _, tc := range []struct{ flag, want string }{
			{"--rto=1ns", "RTO: restore took"},
			{"--rpo=1ns", "RPO: newest good backup"},
		} {
			out, stderr, code := db("drill", tc.flag)
			if code != exitDrillMissed || !strings.Contains(stderr, "missed its recovery targets") || !strings.Contains(stderr, tc.want) {
				t.Errorf("db drill %s: exit %d, stderr %q; want exit %d naming the missed target", tc.flag, code, stderr, exitDrillMissed)
			}
			if !strings.Contains(out, "MISSED") {
				t.Errorf("db drill %s printed:\n%s\nwant the report with MISSED", tc.flag, out)
			}
		}
	})
}
