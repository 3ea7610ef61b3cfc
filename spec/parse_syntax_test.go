package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParse_SyntaxPositions checks the YAML errors the YAML library
// reports without a line: each still names the line (and, where it can be
// known, the column) of the problem.
func TestParse_SyntaxPositions(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		line, col int
		fragment  string
	}{
		{"mapping on line 1", "apiVersion: x: y\n", 1, 0, "mapping values are not allowed"},
		{"unknown anchor", "apiVersion: gantry.dev/v1\nkind: App\nspec:\n  workload:\n    args: [*port]\n", 5, 12, "unknown anchor 'port'"},
		{"unknown anchor after a longer alias", "a: &portx 1\nb: *portx\nc: *port\n", 3, 4, "unknown anchor 'port'"},
		{"control character", "apiVersion: gantry.dev/v1\nkind: App\nmetadata: {name: \"a\x01\"}\n", 3, 20, "control characters are not allowed"},
		{"invalid UTF-8", "apiVersion: gantry.dev/v1\n# é\nkind: \xff\xfeApp\n", 3, 7, "UTF-8"},
		{"unknown escape on line 1", "apiVersion: \"\\q\"\n", 1, 0, "unknown escape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("gantry.yaml", []byte(tt.yaml))
			var list ErrorList
			if !errors.As(err, &list) || len(list) != 1 {
				t.Fatalf("Parse error = %v, want one FieldError", err)
			}
			got := list[0]
			if got.Line != tt.line || got.Column != tt.col || !strings.Contains(got.Message, tt.fragment) {
				t.Errorf("got %v, want gantry.yaml:%d:%d with %q", got, tt.line, tt.col, tt.fragment)
			}
			if strings.Contains(got.Message, "yaml:") {
				t.Errorf("message %q repeats the library's prefix", got.Message)
			}
		})
	}
}

// FuzzParse checks that every error Parse reports names the file and a
// line. The seed corpus is testdata/fuzz/FuzzParse plus the example specs.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/full.yaml", "testdata/many-errors.yaml", "../examples/gemini-api/gantry.yaml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		app, err := Parse("gantry.yaml", data)
		if err == nil {
			if app == nil {
				t.Fatal("Parse returned neither an app nor an error")
			}
			return
		}
		var list ErrorList
		if !errors.As(err, &list) {
			t.Fatalf("Parse error %v (%T) is not an ErrorList", err, err)
		}
		for _, e := range list {
			if e.File != "gantry.yaml" || e.Line < 1 {
				t.Errorf("error without file:line: %v", e)
			}
		}
	})
}

// TestFuzzCorpus_Present keeps the checked-in corpus from going missing.
func TestFuzzCorpus_Present(t *testing.T) {
	m, _ := filepath.Glob("testdata/fuzz/FuzzParse/*")
	if len(m) == 0 {
		t.Fatal("testdata/fuzz/FuzzParse holds no seed inputs")
	}
}
