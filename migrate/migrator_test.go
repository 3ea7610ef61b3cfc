package migrate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// env is one database of the shared test cluster with its own copy of the
// fixture migrations.
type env struct {
	t   *testing.T
	c   *pgtest.Cluster
	url string
	dir string
}

func fixtures(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ents, err := os.ReadDir("testdata/migrations")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("testdata/migrations", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var dbSeq struct {
	sync.Mutex
	n int
}

func newEnv(t *testing.T, c *pgtest.Cluster) *env {
	t.Helper()
	dbSeq.Lock()
	dbSeq.n++
	name := fmt.Sprintf("m%d", dbSeq.n)
	dbSeq.Unlock()
	return &env{t: t, c: c, url: c.CreateDB(t, name), dir: fixtures(t)}
}

func (e *env) write(name, body string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, name), []byte(body), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) remove(name string) {
	e.t.Helper()
	if err := os.Remove(filepath.Join(e.dir, name)); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) open() *Migrator {
	e.t.Helper()
	m, err := Open(context.Background(), Options{URL: e.url, Locations: []string{e.dir}, Logf: e.t.Logf})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { m.Close(context.Background()) })
	return m
}

func (e *env) migrate(opts PlanOptions) *MigrateResult {
	e.t.Helper()
	res, err := e.open().Migrate(context.Background(), opts)
	if err != nil {
		e.t.Fatalf("migrate: %v", err)
	}
	return res
}

func (e *env) history() []Applied {
	e.t.Helper()
	conn, err := pgx.Connect(context.Background(), e.url)
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := table{schema: "public", name: DefaultTable}.read(context.Background(), conn)
	if err != nil {
		e.t.Fatal(err)
	}
	return rows
}

func (e *env) query(sql string) string {
	e.t.Helper()
	conn, err := pgx.Connect(context.Background(), e.url)
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var s *string
	if err := conn.QueryRow(context.Background(), sql).Scan(&s); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	if s == nil {
		return "<null>"
	}
	return *s
}

// dump returns pg_dump's schema-and-data dump without its comments and
// its per-run \restrict keys.
func (e *env) dump() string {
	e.t.Helper()
	out, err := exec.Command("pg_dump", "--no-comments", "--dbname", e.url).Output()
	if err != nil {
		e.t.Fatalf("pg_dump: %v", err)
	}
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(l, "--") && !strings.HasPrefix(l, `\restrict`) && !strings.HasPrefix(l, `\unrestrict`) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func rowSummary(rows []Applied) string {
	var parts []string
	for _, r := range rows {
		v := r.Version.String()
		if v == "" {
			v = "R:" + r.Description
		}
		parts = append(parts, fmt.Sprintf("%s/%s/%v", v, r.Type, r.Success))
	}
	return strings.Join(parts, " ")
}

func states(info *Info) string {
	var parts []string
	for _, e := range info.Entries {
		v := e.Version.String()
		if e.Kind == Repeatable {
			v = "R"
		}
		parts = append(parts, v+"="+e.State.String())
	}
	return strings.Join(parts, " ")
}

func TestMigrator(t *testing.T) {
	c := pgtest.Start(t)
	if _, err := exec.LookPath("pg_dump"); err != nil {
		t.Skip("pg_dump not on PATH")
	}
	ctx := context.Background()

	t.Run("migrate, info, validate, undo, re-migrate", func(t *testing.T) {
		e := newEnv(t, c)
		info, err := e.open().Info(ctx, PlanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := states(info), "1=Pending 1.1=Pending 2=Pending 3=Pending R=Pending"; got != want {
			t.Errorf("info before = %s, want %s", got, want)
		}
		res := e.migrate(PlanOptions{})
		if len(res.Applied) != 5 || res.To.String() != "3" || !res.From.IsZero() {
			t.Errorf("migrate applied %d, %s → %s; want 5, <none> → 3", len(res.Applied), res.From, res.To)
		}
		rows := e.history()
		if got, want := rowSummary(rows), "1/SQL/true 1.1/SQL/true 2/SQL/true 3/SQL/true R:User names view/SQL/true"; got != want {
			t.Errorf("history = %s, want %s", got, want)
		}
		v11, _ := os.ReadFile(filepath.Join(e.dir, "V1.1__Add_email.sql"))
		if r := rows[1]; r.Script != "V1.1__Add_email.sql" || r.Description != "Add email" || *r.Checksum != Checksum(v11) ||
			r.InstalledBy != pgtest.User || r.InstalledOn.IsZero() {
			t.Errorf("row 2 = %+v, want script V1.1__Add_email.sql, description %q, checksum %d, installed by %s", r, "Add email", Checksum(v11), pgtest.User)
		}
		if got := e.query("SELECT indexname::text FROM pg_indexes WHERE indexname = 'users_name_idx'"); got != "users_name_idx" {
			t.Errorf("non-transactional V3 index = %s", got)
		}
		if _, err := e.open().Validate(ctx, ValidateOptions{}); err != nil {
			t.Errorf("validate after migrate: %v", err)
		}
		if res := e.migrate(PlanOptions{}); len(res.Applied) != 0 {
			t.Errorf("second migrate applied %d, want 0", len(res.Applied))
		}

		ures, err := e.open().Undo(ctx, UndoOptions{Target: MustParseVersion("1")})
		if err != nil {
			t.Fatal(err)
		}
		if len(ures.Undone) != 3 || ures.To.String() != "1" {
			t.Errorf("undo to 1: undid %d, now %s; want 3, 1", len(ures.Undone), ures.To)
		}
		rows = e.history()
		if got, want := rowSummary(rows[5:]), "3/UNDO_SQL/true 2/UNDO_SQL/true 1.1/UNDO_SQL/true"; got != want {
			t.Errorf("undo rows = %s, want %s", got, want)
		}
		if r := rows[5]; r.Script != "U3__Index_user_names.sql" {
			t.Errorf("undo row script = %s", r.Script)
		}
		if got := e.query("SELECT to_regclass('orders')::text"); got != "<null>" {
			t.Errorf("orders after undo = %s, want gone", got)
		}
		info, err = e.open().Info(ctx, PlanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := states(info), "1=Success 1.1=Undone 2=Undone 3=Undone R=Success 3=Success 2=Success 1.1=Success 1.1=Pending 2=Pending 3=Pending"; got != want {
			t.Errorf("info after undo = %s\nwant %s", got, want)
		}
		if res := e.migrate(PlanOptions{}); len(res.Applied) != 3 || res.To.String() != "3" {
			t.Errorf("re-migrate applied %d to %s, want 3 to 3", len(res.Applied), res.To)
		}
		if _, err := e.open().Validate(ctx, ValidateOptions{}); err != nil {
			t.Errorf("validate after re-migrate: %v", err)
		}
	})

	t.Run("undo without an undo file runs nothing", func(t *testing.T) {
		e := newEnv(t, c)
		e.migrate(PlanOptions{})
		e.remove("U2__Orders.sql")
		_, err := e.open().Undo(ctx, UndoOptions{Count: 2})
		if !errors.Is(err, ErrNoUndo) || !strings.Contains(err.Error(), "U2__<description>.sql") {
			t.Fatalf("err = %v, want ErrNoUndo naming U2", err)
		}
		if n := len(e.history()); n != 5 {
			t.Errorf("history has %d rows, want 5 (nothing undone)", n)
		}
	})

	t.Run("edited applied file fails validate until repair", func(t *testing.T) {
		e := newEnv(t, c)
		e.migrate(PlanOptions{})
		e.write("V1.1__Add_email.sql", "ALTER TABLE users ADD COLUMN email varchar(200);\n")
		_, err := e.open().Validate(ctx, ValidateOptions{})
		var ve *ValidationError
		if !errors.As(err, &ve) || !ve.Has(ChecksumMismatch) || !strings.Contains(err.Error(), "V1.1__Add_email.sql") {
			t.Fatalf("validate = %v, want a checksum mismatch naming V1.1__Add_email.sql", err)
		}
		e.refusedUntilRepaired("1.1")
	})

	t.Run("failed transactional migration changes nothing", func(t *testing.T) {
		e := newEnv(t, c)
		e.migrate(PlanOptions{})
		before := e.dump()
		e.write("V4__Half.sql", "CREATE TABLE half (a int);\nINSERT INTO half VALUES (1);\nINSERT INTO nosuch VALUES (1);\n")
		e.write("V5__Never.sql", "CREATE TABLE never (a int);\n")
		res, err := e.open().Migrate(ctx, PlanOptions{})
		if !errors.Is(err, ErrMigrationFailed) || !strings.Contains(err.Error(), "V4__Half.sql at line 3") {
			t.Fatalf("migrate = %v, want ErrMigrationFailed at V4__Half.sql line 3", err)
		}
		if len(res.Applied) != 0 {
			t.Errorf("applied %d, want 0", len(res.Applied))
		}
		if after := e.dump(); after != before {
			t.Errorf("dump changed after a failed transactional migration:\n%s", diffLines(before, after))
		}
		_, err = e.open().Validate(ctx, ValidateOptions{})
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Has(FailedMigration) || !ve.Has(NotApplied) {
			t.Errorf("validate = %v, want only pending migrations", err)
		}
	})

	t.Run("failed non-transactional migration is recorded and repaired", func(t *testing.T) {
		e := newEnv(t, c)
		e.migrate(PlanOptions{})
		e.write("V4__Indexes.sql", "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\nCREATE INDEX CONCURRENTLY bad_idx ON nosuch (x);\n")
		_, err := e.open().Migrate(ctx, PlanOptions{})
		if !errors.Is(err, ErrMigrationFailed) || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "repair") {
			t.Fatalf("migrate = %v, want ErrMigrationFailed at line 2 suggesting repair", err)
		}
		rows := e.history()
		if last := rows[len(rows)-1]; last.Version.String() != "4" || last.Success {
			t.Errorf("last row = %+v, want version 4 with success=false", last)
		}
		_, err = e.open().Validate(ctx, ValidateOptions{})
		var ve *ValidationError
		if !errors.As(err, &ve) || !ve.Has(FailedMigration) {
			t.Errorf("validate = %v, want a failed migration", err)
		}
		if _, err := e.open().Migrate(ctx, PlanOptions{}); !errors.Is(err, ErrValidation) {
			t.Errorf("migrate over a failed migration = %v, want ErrValidation", err)
		}
		rep, err := e.open().Repair(ctx)
		if err != nil || len(rep.Removed) != 1 {
			t.Fatalf("repair = %+v, %v; want one removed row", rep, err)
		}
		// The person fixes the file and cleans up the half-done index.
		e.write("V4__Indexes.sql", "DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n")
		if res := e.migrate(PlanOptions{}); len(res.Applied) != 1 {
			t.Errorf("migrate after repair applied %d, want 1", len(res.Applied))
		}
	})

	t.Run("baseline an existing database", func(t *testing.T) {
		e := newEnv(t, c)
		conn, err := pgx.Connect(ctx, e.url)
		if err != nil {
			t.Fatal(err)
		}
		b1, _ := os.ReadFile(filepath.Join(e.dir, "V1__Create_users.sql"))
		b2, _ := os.ReadFile(filepath.Join(e.dir, "V1.1__Add_email.sql"))
		if _, err := conn.Exec(ctx, string(b1)+string(b2)); err != nil {
			t.Fatal(err)
		}
		conn.Close(ctx)
		if _, err := e.open().Migrate(ctx, PlanOptions{}); !errors.Is(err, ErrNonEmptySchema) || !strings.Contains(err.Error(), "baseline") {
			t.Fatalf("migrate on a database without history = %v, want ErrNonEmptySchema suggesting baseline", err)
		}
		if err := e.open().Baseline(ctx, BaselineOptions{Version: MustParseVersion("1.1")}); err != nil {
			t.Fatal(err)
		}
		rows := e.history()
		if len(rows) != 1 || rows[0].Type != TypeBaseline || rows[0].Description != "<< Flyway Baseline >>" ||
			rows[0].Script != "<< Flyway Baseline >>" || rows[0].Checksum != nil || rows[0].Version.String() != "1.1" {
			t.Fatalf("baseline rows = %+v", rows)
		}
		if err := e.open().Baseline(ctx, BaselineOptions{Version: MustParseVersion("2")}); !errors.Is(err, ErrHistoryNotEmpty) {
			t.Errorf("second baseline = %v, want ErrHistoryNotEmpty", err)
		}
		res := e.migrate(PlanOptions{})
		if len(res.Applied) != 3 || res.From.String() != "1.1" {
			t.Errorf("migrate after baseline applied %d from %s, want 3 from 1.1", len(res.Applied), res.From)
		}
		info, _ := e.open().Info(ctx, PlanOptions{})
		if got, want := states(info), "1.1=Baseline 2=Success 3=Success R=Success 1=Below baseline"; got != want {
			t.Errorf("info = %s, want %s", got, want)
		}
	})

	t.Run("out of order, missing, repeatable re-run", func(t *testing.T) {
		e := newEnv(t, c)
		e.migrate(PlanOptions{})
		e.write("V1.5__Late.sql", "CREATE TABLE late (a int);\n")
		_, err := e.open().Validate(ctx, ValidateOptions{})
		var ve *ValidationError
		if !errors.As(err, &ve) || !ve.Has(IgnoredMigration) || !strings.Contains(err.Error(), "--out-of-order") {
			t.Fatalf("validate = %v, want an ignored migration suggesting --out-of-order", err)
		}
		if _, err := e.open().Migrate(ctx, PlanOptions{}); !errors.Is(err, ErrValidation) {
			t.Fatalf("migrate = %v, want ErrValidation", err)
		}
		e.migrate(PlanOptions{OutOfOrder: true})
		info, _ := e.open().Info(ctx, PlanOptions{})
		if got := states(info); !strings.Contains(got, "1.5=Out of order") {
			t.Errorf("info = %s, want 1.5 out of order", got)
		}

		e.write("R__User_names_view.sql", "CREATE OR REPLACE VIEW user_names AS SELECT name, id FROM users;\n")
		info, _ = e.open().Info(ctx, PlanOptions{})
		if got := states(info); !strings.HasSuffix(got, "R=Outdated 1.5=Out of order R=Pending") {
			t.Errorf("info after editing the repeatable = %s", got)
		}
		if res := e.migrate(PlanOptions{}); len(res.Applied) != 1 || res.Applied[0].Script.Kind != Repeatable {
			t.Errorf("migrate re-ran %v, want the repeatable", res.Applied)
		}

		e.remove("V2__Orders.sql")
		_, err = e.open().Validate(ctx, ValidateOptions{})
		if !errors.As(err, &ve) || !ve.Has(MissingLocally) {
			t.Fatalf("validate = %v, want missing locally", err)
		}
		rep, err := e.open().Repair(ctx)
		if err != nil || len(rep.Deleted) != 1 {
			t.Fatalf("repair = %+v, %v; want one deleted", rep, err)
		}
		if _, err := e.open().Validate(ctx, ValidateOptions{}); err != nil {
			t.Errorf("validate after repair: %v", err)
		}
	})

	t.Run("a second migrator waits for the lock", func(t *testing.T) {
		e := newEnv(t, c)
		holder, err := pgx.Connect(ctx, e.url)
		if err != nil {
			t.Fatal(err)
		}
		defer holder.Close(ctx)
		key := table{schema: "public", name: DefaultTable}.lockKey()
		if _, err := holder.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
			t.Fatal(err)
		}
		m := e.open()
		done := make(chan error, 1)
		go func() { _, err := m.Migrate(ctx, PlanOptions{}); done <- err }()
		waitFor(t, func() bool {
			var waiting int
			holder.QueryRow(ctx, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").Scan(&waiting)
			return waiting == 1
		})
		if got := e.query("SELECT to_regclass('users')::text"); got != "<null>" {
			t.Fatalf("users exists while the lock is held elsewhere")
		}
		if _, err := holder.Exec(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("migrate after the lock was released: %v", err)
		}
		if got := e.query("SELECT to_regclass('users')::text"); got != "users" {
			t.Errorf("users = %s after migrate", got)
		}
	})

	t.Run("bad inputs", func(t *testing.T) { testBadInputs(t, c) })
	t.Run("flyway parity", func(t *testing.T) { testFlywayParity(t, c) })
}

// refusedUntilRepaired checks that migrate refuses to run, that repair
// realigns exactly version, and that validate passes after it.
func (e *env) refusedUntilRepaired(version string) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.open().Migrate(ctx, PlanOptions{}); !errors.Is(err, ErrValidation) {
		e.t.Errorf("migrate = %v, want ErrValidation", err)
	}
	rep, err := e.open().Repair(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(rep.Realigned) != 1 || rep.Realigned[0].Version.String() != version {
		e.t.Errorf("repair realigned %+v, want version %s", rep.Realigned, version)
	}
	if _, err := e.open().Validate(ctx, ValidateOptions{}); err != nil {
		e.t.Errorf("validate after repair: %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 2 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	in := map[string]bool{}
	for _, l := range al {
		in[l] = true
	}
	var out []string
	for _, l := range bl {
		if !in[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
