package postgres_test

import (
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-dev/gantry/internal/pgtest"
	"github.com/gantry-dev/gantry/store/postgres"
	"github.com/gantry-dev/gantry/store/storetest"
)

// TestOpen_convertsSchema2 builds a database as gantry left it at schema
// version 2 (its migration files, then testdata/schema2.sql, the rows of
// the SQLite fixture), opens it, and checks that the upgrade moved the
// facts from messages and actors into the typed columns.
func TestOpen_convertsSchema2(t *testing.T) {
	cluster := pgtest.Start(t)
	url := cluster.CreateDB(t, "schema2")
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"migrations/0001_init.sql", "migrations/0002_tokens_audit.sql", "testdata/schema2.sql"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(t.Context(), string(b)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if _, err := conn.Exec(t.Context(), `CREATE TABLE gantry_schema_version (version integer NOT NULL);
		INSERT INTO gantry_schema_version (version) VALUES (2)`); err != nil {
		t.Fatal(err)
	}
	conn.Close(t.Context())

	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("open a schema 2 database: %v", err)
	}
	defer s.Close()
	storetest.CheckSchema2Converted(t, s)
}
