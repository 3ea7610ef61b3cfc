package server_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/internal/testbin"
	"github.com/gantry-dev/gantry/loadgen"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/server"
)

// gantryBin is the gantry binary built for these tests; instances run its
// `gantry sample` workload, and the crash test runs `gantry server`.
var gantryBin string

func TestMain(m *testing.M) {
	os.Exit(testbin.Main(m, "github.com/gantry-dev/gantry/cmd/gantry", &gantryBin))
}

// appSpec is a 3-instance app running the sample workload.
func appSpec(listen string, progressDeadline int) string {
	return fmt.Sprintf(`apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
  replicas: 3
  workload:
    command: %s
    args: [sample, --port, "{{.Port}}", --version, "{{.Version}}", --instance, "{{.Instance}}"]
  livenessProbe: {httpGet: {path: /health}, periodSeconds: 1}
  readinessProbe: {httpGet: {path: /ready}, periodSeconds: 1}
  progressDeadlineSeconds: %d
  terminationGracePeriodSeconds: 5
environments:
  - name: prod
    proxy: {listen: %q}
`, gantryBin, progressDeadline, listen)
}

type env struct {
	srv *server.Server
	c   *client.Client
}

// startServer runs an in-process server until the test ends, then stops it
// and every instance it started.
func startServer(t *testing.T, progressDeadline int) *env {
	t.Helper()
	return startServerWith(t, appSpec("127.0.0.1:0", progressDeadline))
}

// startServerWith is startServer with a spec of the caller's, then
// deploys v1 of app web in environment prod.
func startServerWith(t *testing.T, specText string) *env {
	t.Helper()
	return startServerOpts(t, specText, nil)
}

// startServerOpts is startServerWith with options changed by set (nil: none).
func startServerOpts(t *testing.T, specText string, set func(*server.Options)) *env {
	t.Helper()
	ctx := context.Background()
	opts := server.Options{
		DataDir: t.TempDir(), APIAddr: "127.0.0.1:0", StopInstancesOnExit: true,
		Interval: 100 * time.Millisecond, RestartBackoff: 200 * time.Millisecond, Logf: t.Logf,
		Token: testToken,
	}
	if set != nil {
		set(&opts)
	}
	s, err := server.New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stop: %v", err)
		}
	})
	c, err := client.New(client.Options{Server: s.APIURL(), Actor: "test", Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, "gantry.yaml", []byte(specText)); err != nil {
		t.Fatal(err)
	}
	e := &env{srv: s, c: c}
	if r := e.deploy(t, "v1"); r.Phase != rollout.Succeeded {
		t.Fatalf("first deploy: %s %s: %s", r.Phase, r.Reason, r.Message)
	}
	return e
}

func (e *env) deploy(t *testing.T, version string) rollout.Rollout {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := e.c.Deploy(ctx, "web", "prod", version)
	if err != nil {
		t.Fatalf("deploy %s: %v", version, err)
	}
	r, err = e.c.WaitRollout(ctx, r.ID, 100*time.Millisecond, nil)
	if err != nil {
		t.Fatalf("wait for rollout of %s: %v (last phase %s)", version, err, r.Phase)
	}
	return r
}

func (e *env) load(t *testing.T) (*loadgen.Load, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	l := loadgen.Start(ctx, loadgen.Options{URL: "http://" + e.srv.ProxyAddr("web", "prod") + "/", Rate: 250, Workers: 16})
	start := time.Now()
	var once sync.Once
	return l, func() {
		once.Do(func() { stopLoad(t, l, cancel, start) })
	}
}

func stopLoad(t *testing.T, l *loadgen.Load, cancel func(), start time.Time) {
	{
		cancel()
		l.Wait()
		t.Logf("load: %d requests in %s (%.0f/s), %d failed; by version %+v",
			l.Total(), time.Since(start).Round(time.Millisecond), float64(l.Total())/time.Since(start).Seconds(), l.Failed(), l.ByVersion())
	}
}

func served(l *loadgen.Load) map[string]uint64 {
	out := map[string]uint64{}
	for _, c := range l.ByVersion() {
		out[c.Version] = c.OK
	}
	return out
}

func TestServer_RollingUpdateUnderLoadLosesNoRequest(t *testing.T) {
	e := startServer(t, 60)
	l, stop := e.load(t)
	time.Sleep(time.Second)
	r := e.deploy(t, "v2")
	time.Sleep(time.Second)
	stop()
	if r.Phase != rollout.Succeeded {
		t.Fatalf("rollout: %s %s: %s", r.Phase, r.Reason, r.Message)
	}
	if l.Failed() != 0 {
		t.Fatalf("%d of %d requests failed during the rolling update; last: %s", l.Failed(), l.Total(), l.LastError())
	}
	got := served(l)
	if got["v1"] == 0 || got["v2"] == 0 {
		t.Fatalf("served by version = %v, want both v1 and v2", got)
	}
	for _, in := range e.srv.Instances("web", "prod") {
		if in.Revision != r.ToRevision && in.State != rollout.Terminating {
			t.Errorf("instance %s of revision %d still runs after the rollout", in.ID, in.Revision)
		}
	}
}

func TestServer_BadVersionsRollBackWithoutFailedRequests(t *testing.T) {
	for _, tc := range []struct {
		version string
		reason  rollout.Reason
	}{
		{"v2+never-ready", "ProgressDeadlineExceeded"},
		{"v2+crash-at-start", "CrashLoop"},
	} {
		t.Run(string(tc.reason), func(t *testing.T) {
			e := startServer(t, 5)
			l, stop := e.load(t)
			r := e.deploy(t, tc.version)
			time.Sleep(500 * time.Millisecond)
			stop()
			if r.Phase != rollout.RolledBack || r.Reason != tc.reason {
				t.Fatalf("rollout = %s %s (%s), want RolledBack %s", r.Phase, r.Reason, r.Message, tc.reason)
			}
			if !strings.Contains(r.Message, tc.version) {
				t.Errorf("reason message %q does not name the version", r.Message)
			}
			if l.Failed() != 0 {
				t.Fatalf("%d of %d requests failed; last: %s", l.Failed(), l.Total(), l.LastError())
			}
			if got := served(l); len(got) != 1 || got["v1"] == 0 {
				t.Fatalf("served by version = %v, want only v1", got)
			}
			hist, err := e.c.History(context.Background(), "web", "prod", 5)
			if err != nil {
				t.Fatal(err)
			}
			if hist[0].Reason != tc.reason || hist[0].ToVersion != tc.version {
				t.Errorf("history shows %s %s, want %s for %s", hist[0].ToVersion, hist[0].Reason, tc.reason, tc.version)
			}
		})
	}
}

// TestServer_ApplyWithBusyListenChangesNothing applies a spec whose proxy
// address is taken: the apply is refused with the address and field, and
// the app is not stored.
func TestServer_ApplyWithBusyListenChangesNothing(t *testing.T) {
	ctx := context.Background()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	s, err := server.New(ctx, server.Options{DataDir: t.TempDir(), APIAddr: "127.0.0.1:0", StopInstancesOnExit: true, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	defer func() { cancel(); <-done }()
	c, err := client.New(client.Options{Server: s.APIURL(), Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Apply(ctx, "gantry.yaml", []byte(appSpec(busy.Addr().String(), 60)))
	if err == nil || !strings.Contains(err.Error(), busy.Addr().String()) || !strings.Contains(err.Error(), "proxy.listen") {
		t.Fatalf("apply with a busy listen address: %v, want an error naming the address and the field", err)
	}
	if apps, err := c.Apps(ctx); err != nil || len(apps) != 0 {
		t.Fatalf("apps after the refused apply = %+v, %v; want none stored", apps, err)
	}
}
