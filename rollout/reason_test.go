package rollout

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestReasons_listed checks that every Reason constant declared in this
// package is in Reasons once, with a meaning, and every reason listed is
// declared.
func TestReasons_listed(t *testing.T) {
	declared := map[Reason]string{}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Reason" {
				return true
			}
			for i, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok {
					continue
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				declared[Reason(s)] = vs.Names[i].Name
			}
			return true
		})
	}
	seen := map[Reason]bool{}
	for _, r := range Reasons {
		if seen[r.Reason] {
			t.Errorf("Reasons lists %s twice", r.Reason)
		}
		seen[r.Reason] = true
		if r.Meaning == "" || r.Group == "" {
			t.Errorf("Reasons: %s has no meaning or group", r.Reason)
		}
		if _, ok := declared[r.Reason]; !ok {
			t.Errorf("Reasons lists %s, which no constant declares", r.Reason)
		}
	}
	for r, name := range declared {
		if !seen[r] {
			t.Errorf("%s (%q) is not in Reasons: add it with its meaning", name, r)
		}
	}
	for trigger, r := range analysisReasons {
		if !seen[r] {
			t.Errorf("the analysis trigger %s rolls back as %s, which Reasons does not list", trigger, r)
		}
	}
}

// TestReasonsMarkdown_fresh fails when docs/reasons.md is not what
// `go generate ./rollout` writes.
func TestReasonsMarkdown_fresh(t *testing.T) {
	got, err := os.ReadFile("../docs/reasons.md")
	if err != nil {
		t.Fatalf("%v: run go generate ./rollout", err)
	}
	if string(got) != ReasonsMarkdown() {
		t.Errorf("docs/reasons.md is stale: run go generate ./rollout")
	}
}
