package spec

import (
	"errors"
	"strings"
	"testing"
)

const checksDoc = `apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
  workload: {command: ./server}
  analysis:
    checks:
    - name: error-share
      query: sum(rate(gantry_requests_total{app="{{.App}}",revision="{{.Revision}}",code_class="5xx"}[1m]))
      successCondition: result < 0.05
      intervalSeconds: 5
environments: [{name: prod}]
`

func TestParse_queryChecks(t *testing.T) {
	app, err := Parse("app.yaml", []byte(checksDoc))
	if err != nil {
		t.Fatal(err)
	}
	checks := app.Spec.Analysis.Checks
	if len(checks) != 1 || checks[0].IntervalSeconds != 5 || checks[0].SuccessCondition != "result < 0.05" {
		t.Fatalf("checks: %+v", checks)
	}
	for _, tc := range []struct {
		name, old, new string
		line           int
		path, fragment string
	}{
		{"promql", `[1m]))`, `[1m])`, 9, "spec.analysis.checks[0].query", "not valid PromQL"},
		{"template", `{{.Revision}}`, `{{.Rev}}`, 9, "spec.analysis.checks[0].query", "Rev"},
		{"condition", `result < 0.05`, `result <`, 10, "spec.analysis.checks[0].successCondition", "result"},
		{"interval", `intervalSeconds: 5`, `intervalSeconds: 7200`, 11, "spec.analysis.checks[0].intervalSeconds", "between 1 and 3600"},
		{"name", `- name: error-share`, `- name: ""`, 8, "spec.analysis.checks[0].name", "required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantOneFieldError(t, strings.Replace(checksDoc, tc.old, tc.new, 1), tc.line, tc.path, tc.fragment)
		})
	}
}

// wantOneFieldError parses doc and wants exactly one error, at line and
// path, whose message has fragment.
func wantOneFieldError(t *testing.T, doc string, line int, path, fragment string) {
	t.Helper()
	_, err := Parse("app.yaml", []byte(doc))
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("got %v, want one field error", err)
	}
	e := list[0]
	if e.Line != line || e.Path != path || !strings.Contains(e.Message, fragment) {
		t.Errorf("got %s (line %d, path %s); want line %d, path %s, mentioning %q", e, e.Line, e.Path, line, path, fragment)
	}
}
