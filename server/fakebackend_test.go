package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/backend/fake"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/server"
)

// fakeSpec runs app web in environment prod on the backend called "fake".
const fakeSpec = `apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
  replicas: 3
  readinessProbe: {httpGet: {path: /ready}, periodSeconds: 1}
  progressDeadlineSeconds: 60
  terminationGracePeriodSeconds: 5
environments:
  - name: prod
    backend: fake
`

// startFakeServer runs a server whose only backend is a fake one over
// cluster, on dataDir, until the returned stop is called or the test ends.
func startFakeServer(t *testing.T, dataDir string, cluster *fake.Cluster, stopInstances bool) (*server.Server, *client.Client, func()) {
	t.Helper()
	s, err := server.New(context.Background(), server.Options{
		DataDir: dataDir, APIAddr: "127.0.0.1:0", StopInstancesOnExit: stopInstances,
		Interval: 100 * time.Millisecond, Logf: t.Logf, Token: testToken,
		Backends: backend.Registry{"fake": cluster.Factory()},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stop: %v", err)
		}
	}
	t.Cleanup(stop)
	c, err := client.New(client.Options{Server: s.APIURL(), Actor: "test", Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	return s, c, stop
}

func TestServer_FakeBackendRunsARollout(t *testing.T) {
	ctx := context.Background()
	cluster, dir := fake.NewCluster(), t.TempDir()
	s, c, stop := startFakeServer(t, dir, cluster, false)

	// An environment on a backend this server does not run is refused
	// with its position and the backends it could use.
	local := strings.Replace(fakeSpec, "    backend: fake\n", "", 1)
	if _, err := c.Apply(ctx, "gantry.yaml", []byte(local)); err == nil ||
		!strings.Contains(err.Error(), "gantry.yaml:10:5") || !strings.Contains(err.Error(), `"local"`) || !strings.Contains(err.Error(), "fake") {
		t.Errorf("apply with the local backend on a server running only fake: %v; want a refusal at gantry.yaml:10:5 naming local and fake", err)
	}

	if _, err := c.Apply(ctx, "gantry.yaml", []byte(fakeSpec)); err != nil {
		t.Fatal(err)
	}
	e := &env{srv: s, c: c}
	if r := e.deploy(t, "v1"); r.Phase != rollout.Succeeded {
		t.Fatalf("deploy v1: %s %s: %s", r.Phase, r.Reason, r.Message)
	}
	l, stopLoad := e.load(t)
	time.Sleep(500 * time.Millisecond)
	r := e.deploy(t, "v2")
	time.Sleep(500 * time.Millisecond)
	stopLoad()
	if r.Phase != rollout.Succeeded {
		t.Fatalf("deploy v2: %s %s: %s", r.Phase, r.Reason, r.Message)
	}
	if l.Failed() != 0 {
		t.Errorf("%d of %d requests through the proxy failed during the rolling update on the fake backend; last: %s", l.Failed(), l.Total(), l.LastError())
	}
	if got := served(l); got["v1"] == 0 || got["v2"] == 0 {
		t.Errorf("served by version %v, want both v1 and v2", got)
	}
	before := s.Instances("web", "prod")
	if len(before) != 3 || before[0].Version != "v2" || before[0].Revision != 2 {
		t.Fatalf("after the rollout: %+v, want 3 instances of revision 2 (v2)", before)
	}
	var log bytes.Buffer
	if err := c.Logs(ctx, "web", "prod", before[0].ID, 0, &log); err != nil || !strings.Contains(log.String(), "gantry-sample v2 started") {
		t.Errorf("log of %s through the API = %q, %v; want its start line", before[0].ID, log.String(), err)
	}

	// A followed log streams through the API until the client stops it:
	// here, the stop of the v2 instance when v3 replaces it.
	fctx, cancelFollow := context.WithCancel(ctx)
	followed := &syncBuffer{}
	stream, err := c.FollowLogs(fctx, "web", "prod", before[0].ID, 0)
	if err != nil {
		t.Fatalf("follow the log of %s: %v", before[0].ID, err)
	}
	followDone := make(chan struct{})
	go func() {
		defer close(followDone)
		_, _ = io.Copy(followed, stream) // ends with the context's error
	}()
	if r := e.deploy(t, "v3"); r.Phase != rollout.Succeeded {
		t.Fatalf("deploy v3: %s %s: %s", r.Phase, r.Reason, r.Message)
	}
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(followed.String(), "gantry-sample v2 stopped") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancelFollow()
	<-followDone
	stream.Close()
	if !strings.Contains(followed.String(), "gantry-sample v2 started") || !strings.Contains(followed.String(), "gantry-sample v2 stopped") {
		t.Errorf("followed log of %s = %q; want its start and, later, its stop line", before[0].ID, followed.String())
	}

	// The next server on the same cluster adopts the instances as they are.
	before = s.Instances("web", "prod")
	stop()
	s2, _, _ := startFakeServer(t, dir, cluster, true)
	after := s2.Instances("web", "prod")
	if fmt.Sprint(ids(after)) != fmt.Sprint(ids(before)) {
		t.Errorf("the next server runs %v, want the adopted %v", ids(after), ids(before))
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func ids(instances []rollout.Instance) []string {
	out := make([]string, len(instances))
	for i, in := range instances {
		out[i] = in.ID
	}
	return out
}
