package migrate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gantry-dev/gantry/internal/pgtest"
)

// testFlywayParity checks the behaviours where gantry follows Flyway beyond
// the basics: renamed files, long descriptions and script paths, and what
// a failure names.
func testFlywayParity(t *testing.T, c *pgtest.Cluster) {
	ctx := context.Background()

	t.Run("renamed applied file is a description mismatch until repair", func(t *testing.T) {
		e := newEnv(t, c)
		e.migrate(PlanOptions{})
		b, err := os.ReadFile(filepath.Join(e.dir, "V1.1__Add_email.sql"))
		if err != nil {
			t.Fatal(err)
		}
		e.remove("V1.1__Add_email.sql")
		e.write("V1.1__Add_mail.sql", string(b))
		_, err = e.open().Validate(ctx, ValidateOptions{})
		var ve *ValidationError
		if !errors.As(err, &ve) || !ve.Has(DescriptionMismatch) {
			t.Fatalf("validate = %v, want a description mismatch", err)
		}
		for _, w := range []string{"V1.1__Add_mail.sql", `"Add email"`, `"Add mail"`, "rename it back to V1.1__Add_email.sql", "gantry db repair"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("validate = %v\nwant it to mention %s", err, w)
			}
		}
		if ve.Has(ChecksumMismatch) || ve.Has(MissingLocally) {
			t.Errorf("validate = %v, want only the description mismatch (same content, same version)", err)
		}
		e.refusedUntilRepaired("1.1")
		if got := e.query("SELECT description FROM flyway_schema_history WHERE version = '1.1'"); got != "Add mail" {
			t.Errorf("description after repair = %q, want %q", got, "Add mail")
		}
	})

	t.Run("long descriptions and script paths are abbreviated as Flyway does", func(t *testing.T) {
		e := newEnv(t, c)
		long := strings.Repeat("Add_a_column_", 19) // 247 characters as a description
		e.write("V4__"+long+".sql", "CREATE TABLE four (a int);\n")
		e.write("R__"+long[:230]+"é.sql", "CREATE OR REPLACE VIEW four_view AS SELECT a FROM four;\n")
		deep := e.dir
		for i := 0; i < 5; i++ {
			deep = filepath.Join(deep, strings.Repeat(string(rune('a'+i)), 220))
		}
		if err := os.MkdirAll(deep, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(deep, "V5__Deep.sql"), []byte("CREATE TABLE five (a int);\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if res := e.migrate(PlanOptions{}); len(res.Applied) != 8 {
			t.Fatalf("migrate applied %d, want 8", len(res.Applied))
		}
		desc := strings.ReplaceAll(long, "_", " ")
		want := desc[:197] + "..."
		if got := e.query("SELECT description FROM flyway_schema_history WHERE version = '4'"); got != want {
			t.Errorf("stored description = %q (%d characters)\nwant %q", got, utf8.RuneCountInString(got), want)
		}
		repDesc := e.query("SELECT description FROM flyway_schema_history WHERE version IS NULL AND description LIKE 'Add a column%'")
		if n := utf8.RuneCountInString(repDesc); n != 200 || !strings.HasSuffix(repDesc, "...") {
			t.Errorf("repeatable's stored description has %d characters (%q), want 200 ending in ...", n, repDesc)
		}
		script := e.query("SELECT script FROM flyway_schema_history WHERE version = '5'")
		if n := utf8.RuneCountInString(script); n != 1000 || !strings.HasPrefix(script, "...") || !strings.HasSuffix(script, "/V5__Deep.sql") {
			t.Errorf("stored script has %d characters (%.20q...), want 1000: ... and the path's end", n, script)
		}
		if _, err := e.open().Validate(ctx, ValidateOptions{}); err != nil {
			t.Errorf("validate after migrate: %v", err)
		}
		if res := e.migrate(PlanOptions{}); len(res.Applied) != 0 {
			t.Errorf("second migrate applied %d (the long repeatable again?), want 0", len(res.Applied))
		}
		if _, err := e.open().Repair(ctx); err != nil {
			t.Fatal(err)
		}
		if got := e.query("SELECT description FROM flyway_schema_history WHERE version = '4'"); got != want {
			t.Errorf("description after repair = %q, want it unchanged", got)
		}
	})

	t.Run("an error without a position names the statement", func(t *testing.T) {
		for _, tc := range []struct {
			name, file, body string
			want             []string
		}{
			{name: "foreign key on line 6", file: "V4__Orders_for_nobody.sql",
				body: "-- Orders for users that do not exist.\nCREATE TABLE notes (a int);\n\nINSERT INTO notes VALUES (1);\n" +
					"INSERT INTO notes VALUES (2);\nINSERT INTO orders (user_id)\n    VALUES (42);\nINSERT INTO notes VALUES (3);\n",
				want: []string{"V4__Orders_for_nobody.sql at line 6", `"INSERT INTO orders (user_id) VALUES (42)"`, "foreign key"}},
			{name: "division by zero on line 3", file: "V4__Divide.sql",
				body: "SELECT 1;\nSELECT 2;\nSELECT 1/0;\n",
				want: []string{"V4__Divide.sql at line 3", `"SELECT 1/0"`, "division by zero"}},
			{name: "unknown table on line 4 keeps its position", file: "V4__Unknown.sql",
				body: "CREATE TABLE x4 (a int);\nINSERT INTO x4 VALUES (1);\n\nINSERT INTO\n  nosuch VALUES (1);\n",
				want: []string{"V4__Unknown.sql at line 5", `"INSERT INTO nosuch VALUES (1)"`, "nosuch"}},
			{name: "long statement is shortened", file: "V4__Long.sql",
				body: "SELECT 1;\nINSERT INTO orders (user_id) SELECT 42 FROM generate_series(1, 10) AS g WHERE g > 0 AND g < 100 AND g <> 50;\n",
				want: []string{"V4__Long.sql at line 2", `"INSERT INTO orders (user_id) SELECT 42 FROM generate_series(1, 10) AS g WHERE..."`}},
			{name: "non-transactional unique index on duplicates", file: "V4__Unique_names.sql",
				body: "CREATE INDEX CONCURRENTLY users_id_idx ON users (id);\nCREATE UNIQUE INDEX CONCURRENTLY users_name_uq ON users ((1));\n",
				want: []string{"V4__Unique_names.sql at line 2", `"CREATE UNIQUE INDEX CONCURRENTLY users_name_uq ON users ((1))"`}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t, c)
				e.migrate(PlanOptions{})
				e.write(tc.file, tc.body)
				_, err := e.open().Migrate(ctx, PlanOptions{})
				if !errors.Is(err, ErrMigrationFailed) {
					t.Fatalf("migrate = %v, want ErrMigrationFailed", err)
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("migrate = %v\nwant it to mention %s", err, w)
					}
				}
				if strings.Contains(err.Error(), "at line 1 ") {
					t.Errorf("migrate = %v, reports line 1", err)
				}
			})
		}
	})

	t.Run("info marks non-transactional files and lists ignored ones apart", func(t *testing.T) {
		e := newEnv(t, c)
		e.migrate(PlanOptions{})
		e.write("V1.05__Late.sql", "CREATE TABLE late (a int);\n")
		e.write("V1.3__Later.sql", "CREATE TABLE later (a int);\n")
		info, err := e.open().Info(ctx, PlanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range info.Entries {
			if got, want := en.NonTransactional(), en.Version.String() == "3"; got != want {
				t.Errorf("version %q %s: non-transactional = %v, want %v", en.Version, en.State, got, want)
			}
		}
		var ign []string
		for _, en := range info.Ignored() {
			ign = append(ign, en.Version.String())
			if !strings.Contains(en.Reason, "older than the current version 3") || !strings.Contains(en.Reason, "--out-of-order") {
				t.Errorf("ignored %s: reason %q, want why and what to do", en.Version, en.Reason)
			}
		}
		if got := strings.Join(ign, " "); got != "1.3 1.05" {
			t.Errorf("ignored = %s, want 1.3 1.05 (version order: 1.3 < 1.5)", got)
		}
		if len(info.Gaps) != 0 {
			t.Errorf("gaps = %v, want none: 1, 1.1, 2, 3 are applied and the ignored files are listed apart", info.Gaps)
		}
	})
}
