package spec

import (
	"fmt"
	"strings"
	"testing"
	"time"
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

func TestParse_metricsActiveUsers(t *testing.T) {
	doc := strings.Replace(metricsDoc, "    routes:\n", "    activeUsers: {window: 90s, cookie: session_id}\n    routes:\n", 1)
	app, err := Parse("app.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := app.Resolve("prod")
	if err != nil {
		t.Fatal(err)
	}
	if w, c := resolved.Metrics.UsersWindow(), resolved.Metrics.UserCookie(); w != 90*time.Second || c != "session_id" {
		t.Errorf("active users window %v, cookie %q; want 1m30s, session_id", w, c)
	}
	var none *MetricsSpec
	if none.UsersWindow() != 0 || none.UserCookie() != "" {
		t.Error("no metrics spec: want no window and no cookie")
	}
	for _, tc := range []struct {
		name, users, path, fragment string
	}{
		{"not a duration", "{window: five}", "spec.metrics.activeUsers.window", "not a duration"},
		{"too short", "{window: 1s}", "spec.metrics.activeUsers.window", "from 10s to 24h0m0s"},
		{"too long", "{window: 48h}", "spec.metrics.activeUsers.window", "out of bounds"},
		{"bad cookie", `{cookie: "a;b"}`, "spec.metrics.activeUsers.cookie", "not a cookie name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(metricsDoc, "    routes:\n", "    activeUsers: "+tc.users+"\n    routes:\n", 1)
			wantOneFieldError(t, bad, 7, tc.path, tc.fragment)
		})
	}
}
