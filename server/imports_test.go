package server_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestServer_importsNoBackendButInTheRegistry keeps the server unaware of
// how instances run: of its files, only backends.go, which fills the
// registry, imports a backend implementation (a package under backend/);
// the rest use the contract in package backend.
func TestServer_importsNoBackendButInTheRegistry(t *testing.T) {
	const implementations = "github.com/gantry-dev/gantry/backend/"
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	importers := map[string][]string{} // implementation -> files
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, implementations) {
				importers[path] = append(importers[path], name)
			}
		}
	}
	for path, names := range importers {
		if !slices.Equal(names, []string{"backends.go"}) {
			t.Errorf("%s is imported by %v; only backends.go, the registry, may import a backend", path, names)
		}
	}
	if got := importers[implementations+"local"]; !slices.Equal(got, []string{"backends.go"}) {
		t.Errorf("backend/local is imported by %v, want by backends.go, which registers it", got)
	}
}
