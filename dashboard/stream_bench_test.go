package dashboard_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/backend/fake"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/dashboard"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/server"
)

// TestFirstLoad: what the page loads before it shows anything stays
// under 300 KB, sent plainly.
func TestFirstLoad(t *testing.T) {
	plain, gz, err := dashboard.FirstLoad()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first load: %d bytes plain, %d gzipped", plain, gz)
	if plain > 300<<10 {
		t.Errorf("first load = %d bytes, want under 300 KB", plain)
	}
}

// cpuTime returns this process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStream_100Rollouts measures what the event stream costs the
// server with 100 apps rolling out (canaries paused mid-way, instances on
// the fake backend): the process's CPU over a window with 10 stream
// clients, less the same window with none, as a share of one core. The
// clients run in the process too, so their reading counts against the
// stream. Run with -benchtime=1x: each run measures two 20s windows.
func BenchmarkStream_100Rollouts(b *testing.B) {
	const apps, clients, window = 100, 10, 20 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := server.New(ctx, server.Options{
		DataDir: b.TempDir(), APIAddr: "127.0.0.1:0", Interval: time.Second, StopInstancesOnExit: true,
		Backends: backend.Registry{"fake": fake.NewCluster().Factory()}, Token: adminToken,
	})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	c, err := client.New(client.Options{Server: s.APIURL(), Token: adminToken})
	if err != nil {
		b.Fatal(err)
	}
	var ids []int64
	for i := range apps {
		name := fmt.Sprintf("app-%03d", i)
		if _, err := c.Apply(ctx, "gantry.yaml", []byte(fmt.Sprintf(benchSpec, name))); err != nil {
			b.Fatal(err)
		}
		r, err := c.Deploy(ctx, name, "prod", "v1")
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	waitAll(b, ctx, c, ids, func(r rollout.Rollout) bool { return r.Phase == rollout.Succeeded })
	ids = ids[:0]
	for i := range apps {
		r, err := c.Deploy(ctx, fmt.Sprintf("app-%03d", i), "prod", "v2")
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	waitAll(b, ctx, c, ids, func(r rollout.Rollout) bool { return r.Phase == rollout.Paused })

	measure := func() time.Duration {
		start := cpuTime()
		time.Sleep(window)
		return cpuTime() - start
	}
	b.ResetTimer()
	for range b.N {
		idle := measure()
		var bytes, frames atomic.Int64
		sctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() { readStream(sctx, s.APIURL(), &bytes, &frames) })
		}
		time.Sleep(2 * time.Second) // connected, the hub running
		bytes.Store(0)
		frames.Store(0)
		streaming := measure()
		stop()
		wg.Wait()
		share := float64(streaming-idle) / float64(window) * 100
		b.ReportMetric(share, "stream-%core")
		b.ReportMetric(float64(idle)/float64(window)*100, "idle-%core")
		if n := frames.Load(); n > 0 {
			b.ReportMetric(float64(bytes.Load())/float64(n), "B/frame")
		}
		b.Logf("%d apps rolling out, %d stream clients: server CPU %.2f%% of one core with them, %.2f%% without; stream %.2f%%; %d frames of %d bytes each",
			apps, clients, float64(streaming)/float64(window)*100, float64(idle)/float64(window)*100, share, frames.Load(), bytes.Load()/max(1, frames.Load()))
	}
}

const benchSpec = `apiVersion: gantry.dev/v1
kind: App
metadata: {name: %s}
spec:
  replicas: 1
  readinessProbe: {httpGet: {path: /ready}, periodSeconds: 1}
  progressDeadlineSeconds: 3600
  strategy:
    type: Canary
    canary:
      steps:
        - setWeight: 20
        - pause: {}
environments:
  - name: prod
    backend: fake
`

// waitAll waits until every rollout of ids satisfies ok.
func waitAll(b *testing.B, ctx context.Context, c *client.Client, ids []int64, ok func(rollout.Rollout) bool) {
	deadline := time.Now().Add(5 * time.Minute)
	for _, id := range ids {
		for {
			r, err := c.Rollout(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			if ok(r) {
				break
			}
			if r.Phase.Final() || time.Now().After(deadline) {
				b.Fatalf("rollout %d of %s: %s %s", id, r.App, r.Phase, r.Message)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// readStream reads the stream until ctx ends, counting its bytes and
// frames (the first snapshot, then deltas).
func readStream(ctx context.Context, base string, bytes, frames *atomic.Int64) {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/stream", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		bytes.Add(int64(len(line) + 1))
		if string(line) == "event: snapshot" || string(line) == "event: delta" {
			frames.Add(1)
		}
	}
}
