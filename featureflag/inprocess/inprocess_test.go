package inprocess_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/featureflag"
	"github.com/gantry-dev/gantry/featureflag/inprocess"
	"github.com/gantry-dev/gantry/server"
)

// flagsApp is an app with a production environment, so tokens can be
// granted on it; it is never deployed.
const flagsApp = `apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
  workload: {command: ./web}
environments:
  - name: production
    proxy: {listen: "127.0.0.1:0"}
`

// start runs a gantry server with testdata/flags.yaml applied and returns
// its URL, an admin client and a viewer token for production.
func start(t testing.TB) (string, *client.Client, string) {
	t.Helper()
	data := t.TempDir()
	s, err := server.New(t.Context(), server.Options{DataDir: data, APIAddr: "127.0.0.1:0", StopInstancesOnExit: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	secret, err := os.ReadFile(filepath.Join(data, auth.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := client.New(client.Options{Server: s.APIURL(), Token: strings.TrimSpace(string(secret))})
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("../testdata/flags.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ApplyFlags(t.Context(), "production", api.ApplyFlagsRequest{Source: string(src)}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Apply(t.Context(), "gantry.yaml", []byte(flagsApp)); err != nil {
		t.Fatal(err)
	}
	tok, err := admin.CreateToken(t.Context(), api.TokenCreateRequest{Name: "app", Role: auth.Viewer, Envs: []string{"production"}})
	if err != nil {
		t.Fatal(err)
	}
	return s.APIURL(), admin, tok.Secret
}

func TestClient(t *testing.T) {
	url, admin, token := start(t)
	c, err := inprocess.New(t.Context(), inprocess.Options{Server: url, Env: "production", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.String("greeting", featureflag.Context{"country": "CH"}, "?"); got != "Good day" {
		t.Errorf("greeting in CH = %q, want Good day", got)
	}
	if got := c.Bool("old-checkout", nil, false); got {
		t.Error("a disabled flag gave true; want the caller's default, false")
	}
	if got := c.Number("greeting", nil, 7); got != 7 {
		t.Errorf("a string flag read as a number = %v, want the default 7", got)
	}
	if got := c.Object("theme", nil, nil); got["background"] != "white" {
		t.Errorf("theme = %v, want the light object", got)
	}
	if changed, err := c.Sync(t.Context()); err != nil || changed {
		t.Errorf("sync with nothing changed: %v, %v; want false (304)", changed, err)
	}
	v, err := admin.Flag(t.Context(), "production", "greeting")
	if err != nil {
		t.Fatal(err)
	}
	f := v.Flag.Clone()
	f.DefaultVariant = "formal"
	if _, err := admin.SetFlag(t.Context(), "production", f, v.Version, ""); err != nil {
		t.Fatal(err)
	}
	if changed, err := c.Sync(t.Context()); err != nil || !changed {
		t.Fatalf("sync after a change: %v, %v; want true", changed, err)
	}
	if got := c.String("greeting", featureflag.Context{"country": "NL"}, "?"); got != "Good day" {
		t.Errorf("greeting after the change = %q, want Good day", got)
	}
	if _, err := inprocess.New(t.Context(), inprocess.Options{Server: url, Env: "staging", Token: token}); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("a production token syncing staging: %v, want a 403 error", err)
	}
}

// BenchmarkClient_Evaluate is in-process evaluation from a synced snapshot.
func BenchmarkClient_Evaluate(b *testing.B) {
	url, _, token := start(b)
	c, err := inprocess.New(b.Context(), inprocess.Options{Server: url, Env: "production", Token: token})
	if err != nil {
		b.Fatal(err)
	}
	ctx := featureflag.Context{"targetingKey": "user-42", "email": "ann@example.org", "appVersion": "2.4.1"}
	b.Run("bool rules+rollout", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.Bool("new-ai-agent", ctx, false)
		}
	})
	b.Run("object static", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.Object("theme", ctx, nil)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Bool("new-ai-agent", ctx, false)
			}
		})
	})
}
