package dashboard_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/internal/testbin"
	"github.com/gantry-dev/gantry/server"
)

// gantryBin is the gantry binary built for these tests; instances run its
// `gantry sample` workload.
var gantryBin string

func TestMain(m *testing.M) {
	os.Exit(testbin.Main(m, "github.com/gantry-dev/gantry/cmd/gantry", &gantryBin))
}

// adminToken is the admin token the test servers register.
var adminToken = auth.NewSecret()

// testServer is an in-process gantry server on a data directory that
// outlives it, so a test can stop it and start another on the same
// directory and address.
type testServer struct {
	t    *testing.T
	dir  string
	addr string
	srv  *server.Server
	stop func()
	c    *client.Client
}

// startServer runs a server on dir and addr ("127.0.0.1:0": any port)
// until stopped or the test ends; more change its options.
func startServer(t *testing.T, dir, addr string, more ...func(*server.Options)) *testServer {
	t.Helper()
	opts := server.Options{
		DataDir: dir, APIAddr: addr, StopInstancesOnExit: true,
		Interval: 100 * time.Millisecond, RestartBackoff: 200 * time.Millisecond, Logf: t.Logf, Token: adminToken,
	}
	for _, f := range more {
		f(&opts)
	}
	s, err := server.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	ts := &testServer{t: t, dir: dir, addr: strings.TrimPrefix(s.APIURL(), "http://"), srv: s}
	stopped := false
	ts.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stop: %v", err)
		}
	}
	t.Cleanup(ts.stop)
	ts.c = ts.client(adminToken)
	return ts
}

func (s *testServer) url() string { return "http://" + s.addr }

func (s *testServer) client(token string) *client.Client {
	c, err := client.New(client.Options{Server: s.url(), Actor: "test", Token: token})
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// token creates a token with role on envs and returns its secret.
func (s *testServer) token(name string, role auth.Role, envs ...string) string {
	s.t.Helper()
	res, err := s.c.CreateToken(context.Background(), api.TokenCreateRequest{Name: name, Role: role, Envs: envs})
	if err != nil {
		s.t.Fatal(err)
	}
	return res.Secret
}

// appSpec is a canary of the sample workload in environment prod whose
// proxy listens on a free port; pause "" waits for a promotion.
func appSpec(t *testing.T, pause string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return fmt.Sprintf(`apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
  replicas: 2
  workload:
    command: %s
    args: [sample, --port, "{{.Port}}", --version, "{{.Version}}", --instance, "{{.Instance}}"]
  livenessProbe: {httpGet: {path: /health}, periodSeconds: 1}
  readinessProbe: {httpGet: {path: /ready}, periodSeconds: 1, failureThreshold: 3}
  progressDeadlineSeconds: 120
  terminationGracePeriodSeconds: 5
  strategy:
    type: Canary
    canary:
      steps:
        - setWeight: 50
        - pause: {%s}
        - setWeight: 100
environments:
  - name: prod
    proxy: {listen: %q}
`, gantryBin, pause, addr)
}

// browser is an HTTP client with a cookie jar, as a browser signs in.
type browser struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path, body string, header map[string]string) *http.Response {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { res.Body.Close() })
	return res
}

func (b *browser) signIn(token string) *http.Response {
	return b.do("POST", "/dashboard/login", url.Values{"token": {token}}.Encode(),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": b.base})
}
