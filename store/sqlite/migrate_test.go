package sqlite

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"testing/fstest"
)

func TestLoadMigrations(t *testing.T) {
	tests := []struct {
		name    string
		files   []string
		wantErr bool
	}{
		{"in order", []string{"0001_a.sql", "0002_b.sql"}, false},
		{"gap", []string{"0001_a.sql", "0003_c.sql"}, true},
		{"not from 1", []string{"0002_b.sql"}, true},
		{"no number", []string{"init.sql"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tc.files {
				fsys["migrations/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
			}
			ms, err := loadMigrations(fsys)
			if gotErr := err != nil; gotErr != tc.wantErr {
				t.Fatalf("loadMigrations(%v) error = %v, want error: %v", tc.files, err, tc.wantErr)
			}
			if err == nil && len(ms) != len(tc.files) {
				t.Errorf("loadMigrations(%v): %d migrations, want %d", tc.files, len(ms), len(tc.files))
			}
		})
	}
	if _, err := loadMigrations(migrationFiles); err != nil {
		t.Errorf("gantry's own migrations: %v", err)
	}
}

func TestApplyMigrations_stepByStep(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gantry.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	steps := []migration{
		{Version: 1, Name: "0001_a.sql", SQL: "CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);"},
		{Version: 2, Name: "0002_b.sql", SQL: "CREATE TABLE b (y INTEGER); INSERT INTO b SELECT x + 1 FROM a;"},
	}
	if err := applyMigrations(t.Context(), db, steps[:1]); err != nil {
		t.Fatalf("apply version 1: %v", err)
	}
	// Applying again changes nothing (a second INSERT would add a row).
	if err := applyMigrations(t.Context(), db, steps[:1]); err != nil {
		t.Fatalf("apply version 1 again: %v", err)
	}
	if err := applyMigrations(t.Context(), db, steps); err != nil {
		t.Fatalf("apply version 2: %v", err)
	}
	var rowsA, y, version int
	if err := db.QueryRow("SELECT count(*) FROM a").Scan(&rowsA); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT y FROM b").Scan(&y); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT version FROM schema_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if rowsA != 1 || y != 2 || version != 2 {
		t.Errorf("after migrating 1, 1 again, then 2: %d rows in a, b.y = %d, version %d; want 1, 2, 2", rowsA, y, version)
	}
}

func TestApplyMigrations_failedStepRollsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gantry.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	steps := []migration{
		{Version: 1, Name: "0001_a.sql", SQL: "CREATE TABLE a (x INTEGER);"},
		{Version: 2, Name: "0002_bad.sql", SQL: "CREATE TABLE b (y INTEGER); SELECT * FROM missing;"},
	}
	if err := applyMigrations(t.Context(), db, steps); err == nil {
		t.Fatal("applying a broken migration: no error")
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM sqlite_schema WHERE name IN ('a', 'b', 'schema_version')").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("after a failed migration: %d of the tables it created remain, want 0", n)
	}
}

func TestOpen_refusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gantry.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.Exec("UPDATE schema_version SET version = ?", SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(t.Context(), path)
	if err == nil {
		s.Close()
		t.Fatal("Open of a database from a newer gantry: no error")
	}
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("Open of a database from a newer gantry: error = %v, want ErrSchemaTooNew", err)
	}
}
