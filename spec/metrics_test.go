package spec

import (
	"fmt"
	"strings"
	"testing"
)

const metricsDoc = `apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
  workload: {command: ./server}
  metrics:
    routes:
    - /users/{id}
    - /static/{file...}
environments: [{name: prod}]
`

func TestParse_metricsRoutes(t *testing.T) {
	app, err := Parse("app.yaml", []byte(metricsDoc))
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := app.Resolve("prod")
	if err != nil {
		t.Fatal(err)
	}
	if got := resolved.Metrics.RouteTemplates(); len(got) != 2 || got[0] != "/users/{id}" {
		t.Fatalf("resolved route templates: %q", got)
	}
	many := "routes:\n"
	for i := range 101 {
		many += fmt.Sprintf("    - /r%d\n", i)
	}
	for _, tc := range []struct {
		name, old, new string
		line           int
		path, fragment string
	}{
		{"raw glob", `/users/{id}`, `/users/*`, 8, "spec.metrics.routes[0]", "glob"},
		{"not a path", `/users/{id}`, `users`, 8, "spec.metrics.routes[0]", "starting with /"},
		{"rest in the middle", `/static/{file...}`, `/static/{file...}/raw`, 9, "spec.metrics.routes[1]", "may only end"},
		{"same paths", `/static/{file...}`, `/users/{uid}`, 7, "spec.metrics.routes", "same paths"},
		{"unbounded", "routes:\n    - /users/{id}\n    - /static/{file...}\n", many, 108, "spec.metrics.routes[100]", "at most 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantOneFieldError(t, strings.Replace(metricsDoc, tc.old, tc.new, 1), tc.line, tc.path, tc.fragment)
		})
	}
}
