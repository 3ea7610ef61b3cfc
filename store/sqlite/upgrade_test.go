package sqlite

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gantry-dev/gantry/store/storetest"
)

// TestOpen_convertsSchema2 opens a database written by gantry at schema
// version 2 (testdata/schema2.db: facts only in messages and actors) and
// checks that the upgrade moved them into the typed columns.
func TestOpen_convertsSchema2(t *testing.T) {
	b, err := os.ReadFile("testdata/schema2.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gantry.db")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("open a schema 2 database: %v", err)
	}
	defer s.Close()
	storetest.CheckSchema2Converted(t, s)
}
