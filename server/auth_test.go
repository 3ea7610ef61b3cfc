package server_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/server"
)

// testToken is the admin token in-process test servers register
// (server.Options.Token) and their clients send.
var testToken = auth.NewSecret()

// readAdminToken returns the token a server bootstrapped into dataDir.
func readAdminToken(t testing.TB, dataDir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, auth.AdminTokenFile))
	if err != nil {
		t.Fatalf("read the bootstrap admin token: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// runServer runs an in-process server on dataDir until stop is called.
func runServer(t testing.TB, dataDir string) (s *server.Server, stop func()) {
	t.Helper()
	s, err := server.New(t.Context(), server.Options{DataDir: dataDir, APIAddr: "127.0.0.1:0", StopInstancesOnExit: true, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("server stop: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return s, stop
}

func TestServer_bootstrapsAnAdminTokenAndAudits(t *testing.T) {
	data := t.TempDir()
	s, stop := runServer(t, data)
	path := filepath.Join(data, auth.AdminTokenFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no bootstrap token file: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %o, want 600", path, fi.Mode().Perm())
	}
	admin := readAdminToken(t, data)

	for _, tc := range []struct {
		path string
		want int
	}{
		{"/health", http.StatusOK},
		{"/ready", http.StatusOK},
		{"/api/v1/apps", http.StatusUnauthorized},
		{"/api/v1/openapi.yaml", http.StatusUnauthorized},
	} {
		resp, err := http.Get(s.APIURL() + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s without a token: %d, want %d", tc.path, resp.StatusCode, tc.want)
		}
	}

	ctx := t.Context()
	anon, _ := client.New(client.Options{Server: s.APIURL()})
	var ce *client.Error
	if _, err := anon.Apps(ctx); !errors.As(err, &ce) || ce.Status != http.StatusUnauthorized || ce.Body.Code != api.CodeUnauthenticated {
		t.Errorf("Apps without a token: %v, want 401 unauthenticated", err)
	}
	c, _ := client.New(client.Options{Server: s.APIURL(), Token: admin})
	// Tokens are granted on environments of applied apps.
	app := "apiVersion: gantry.dev/v1\nkind: App\nmetadata: {name: web}\nspec: {workload: {command: /bin/sleep}}\nenvironments: [{name: staging}]\n"
	if _, err := c.Apply(ctx, "gantry.yaml", []byte(app)); err != nil {
		t.Fatal(err)
	}
	created, err := c.CreateToken(ctx, api.TokenCreateRequest{Name: "ci", Role: auth.Viewer, Envs: []string{"staging"}, ExpiresIn: "1h"})
	if err != nil {
		t.Fatalf("create a token with the bootstrap token: %v", err)
	}
	ci, _ := client.New(client.Options{Server: s.APIURL(), Token: created.Secret})
	if _, err := ci.Tokens(ctx); !errors.As(err, &ce) || ce.Status != http.StatusForbidden || !strings.Contains(ce.Body.Message, "token 'ci' has viewer on staging") {
		t.Errorf("list tokens with a viewer token: %v, want 403 saying what it has", err)
	}
	rs, err := c.Audit(ctx, client.AuditQuery{Action: "token.create"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Actor != "admin" || rs[0].Status != http.StatusCreated || rs[0].Target != created.Token.ID || !strings.HasPrefix(rs[0].RemoteAddr, "127.0.0.1:") {
		t.Errorf("audit of token.create = %+v, want one record by admin from 127.0.0.1 naming the new token", rs)
	}
	if _, err := c.CreateToken(ctx, api.TokenCreateRequest{Name: "typo", Role: auth.Viewer, Envs: []string{"stagign"}}); !errors.As(err, &ce) || ce.Status != http.StatusBadRequest || !strings.Contains(ce.Body.Message, `did you mean "staging"`) {
		t.Errorf("create a token for an environment no app has: %v, want 400 suggesting staging", err)
	}
	rep, err := c.VerifyAudit(ctx)
	if err != nil || !rep.OK() || rep.Records < 1 {
		t.Errorf("VerifyAudit = %+v, %v; want an intact chain", rep, err)
	}
	stop()

	// A restart finds tokens and issues none.
	before, _ := os.ReadFile(path)
	_, stop2 := runServer(t, data)
	stop2()
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("a restarted server rewrote the bootstrap token")
	}
}

func TestServer_tokenOption(t *testing.T) {
	secret := auth.NewSecret()
	data := t.TempDir()
	s, err := server.New(t.Context(), server.Options{DataDir: data, APIAddr: "127.0.0.1:0", Token: secret})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	c, _ := client.New(client.Options{Server: s.APIURL(), Token: secret})
	if _, err := c.Apps(ctx); err != nil {
		t.Errorf("Apps with Options.Token: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, auth.AdminTokenFile)); err == nil {
		t.Error("a server given a token also bootstrapped an admin token file")
	}
}
