package migrate

import (
	"testing"
)

func TestSplitStatements(t *testing.T) {
	in := `-- leading comment; not a statement
CREATE TABLE a (s text DEFAULT 'x;y', "we;ird" int);
/* block; /* nested; */ still comment; */
INSERT INTO a VALUES (E'it\'s;', 1);
CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;
CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END;
DO $$ BEGIN PERFORM 1; END $$;
SELECT $1;
-- trailing comment only`
	got := SplitStatements(in)
	want := []struct {
		line   int
		prefix string
	}{
		{2, "CREATE TABLE a"},
		{4, "INSERT INTO a"},
		{5, "CREATE FUNCTION f()"},
		{6, "CREATE FUNCTION g()"},
		{7, "DO $$"},
		{8, "SELECT $1"},
	}
	if len(got) != len(want) {
		for _, s := range got {
			t.Logf("line %d: %q", s.Line, s.SQL)
		}
		t.Fatalf("got %d statements, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Line != w.line || len(got[i].SQL) < len(w.prefix) || got[i].SQL[:len(w.prefix)] != w.prefix {
			t.Errorf("statement %d = line %d %q, want line %d starting %q", i, got[i].Line, got[i].SQL, w.line, w.prefix)
		}
	}
	if got[3].SQL[len(got[3].SQL)-3:] != "END" {
		t.Errorf("BEGIN ATOMIC body split: %q", got[3].SQL)
	}
}

func TestStatement_NonTransactional(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want bool
	}{
		{"CREATE INDEX CONCURRENTLY i ON t (a)", true},
		{"create unique index concurrently if not exists i on t (a)", true},
		{"DROP INDEX CONCURRENTLY i", true},
		{"REINDEX (VERBOSE) INDEX CONCURRENTLY i", true},
		{"REINDEX DATABASE app", true},
		{"VACUUM ANALYZE t", true},
		{"CREATE DATABASE x", true},
		{"ALTER SYSTEM SET work_mem = '8MB'", true},
		{"ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY", true},
		{"CLUSTER", true},
		{"/* c */ -- c\n vacuum", true},
		{"CREATE INDEX i ON t (a)", false},
		{"REINDEX INDEX i", false},
		{"CLUSTER t USING i", false},
		{"REFRESH MATERIALIZED VIEW CONCURRENTLY mv", false},
		{"INSERT INTO t VALUES ('VACUUM')", false},
		{"CREATE TABLE concurrently (a int)", false},
	} {
		t.Run(tc.sql, func(t *testing.T) {
			st := SplitStatements(tc.sql)
			if len(st) != 1 {
				t.Fatalf("split into %d statements", len(st))
			}
			if _, got := st[0].NonTransactional(); got != tc.want {
				t.Errorf("NonTransactional(%q) = %v, want %v", tc.sql, got, tc.want)
			}
		})
	}
}
