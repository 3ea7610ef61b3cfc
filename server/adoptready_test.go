package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/rollout"
)

// proxyLoad sends requests to a proxy one after another from a few
// workers and counts the answers by status code; a request that gets no
// answer (the proxy is down) is counted apart.
type proxyLoad struct {
	mu       sync.Mutex
	byStatus map[int]int
	noAnswer int
	// phase tells the requests of one stretch of the test from another.
	phase    atomic.Int32
	byPhase  map[int32]map[int]int
	stop     chan struct{}
	stopOnce sync.Once
	finished sync.WaitGroup
}

func startProxyLoad(url string, workers int) *proxyLoad {
	l := &proxyLoad{byStatus: map[int]int{}, byPhase: map[int32]map[int]int{}, stop: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second}
	for range workers {
		l.finished.Go(func() {
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				phase := l.phase.Load()
				resp, err := client.Get(url)
				l.mu.Lock()
				if err != nil {
					l.noAnswer++
				} else {
					l.byStatus[resp.StatusCode]++
					if l.byPhase[phase] == nil {
						l.byPhase[phase] = map[int]int{}
					}
					l.byPhase[phase][resp.StatusCode]++
				}
				l.mu.Unlock()
				if err != nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	return l
}

func (l *proxyLoad) end() {
	l.stopOnce.Do(func() { close(l.stop) })
	l.finished.Wait()
}

// TestServer_RestartKeepsAdoptedInstancesInTraffic sends requests through
// an environment's proxy while `gantry server` is killed with SIGKILL and
// started again: the adopted instances keep their recorded readiness, so
// the new server's proxy routes to them from its first request: no 503,
// only refused connections while no server runs.
func TestServer_RestartKeepsAdoptedInstancesInTraffic(t *testing.T) {
	killInstancesAtEnd(t)
	data := t.TempDir()
	listen, proxy := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	a := startServerProc(t, data, listen)
	c, err := client.New(client.Options{Server: a.url, Token: a.token})
	if err != nil {
		t.Fatal(err)
	}
	// Readiness is probed every 10 s: a new server that waited for a
	// probe would answer 503 for seconds.
	app := crashLoopApp(proxy, "    type: RollingUpdate")
	app = replaceOnce(t, app, "readinessProbe: {httpGet: {path: /ready}, periodSeconds: 1}", "readinessProbe: {httpGet: {path: /ready}, periodSeconds: 10, initialDelaySeconds: 5}")
	if _, err := c.Apply(ctx, "gantry.yaml", []byte(app)); err != nil {
		t.Fatal(err)
	}
	r, err := c.Deploy(ctx, "web", "prod", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if r, err = c.WaitRollout(ctx, r.ID, 100*time.Millisecond, nil); err != nil || r.Phase != rollout.Succeeded {
		t.Fatalf("v1: %v %s", err, r.Phase)
	}

	l := startProxyLoad("http://"+proxy+"/", 4)
	defer l.end()
	waitServed(ctx, t, l, 0, 50)
	a.cmd.Process.Signal(syscall.SIGKILL)
	a.cmd.Wait()
	l.phase.Store(1)
	b := startServerProc(t, data, listen, "--stop-instances-on-exit")
	// Well before the adopted instances' first probe (5 s after adoption).
	waitServed(ctx, t, l, 1, 200)
	l.end()

	l.mu.Lock()
	t.Logf("answers by status: %v; %d requests got no answer while no server ran; after the restart: %v", l.byStatus, l.noAnswer, l.byPhase[1])
	if n := l.byStatus[http.StatusServiceUnavailable]; n != 0 {
		t.Errorf("%d requests got 503 around the restart, want none", n)
	}
	for code, n := range l.byStatus {
		if code != http.StatusOK && code != http.StatusServiceUnavailable {
			t.Errorf("%d requests got HTTP %d", n, code)
		}
	}
	l.mu.Unlock()
	c, _ = client.New(client.Options{Server: b.url, Token: b.token})
	st, err := c.Status(ctx, "web", "prod")
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range st.Revisions {
		for _, in := range rs.Instances {
			if !in.Ready || in.Restarts != 0 {
				t.Errorf("adopted instance %s: ready=%v, %d restarts; want ready, not restarted", in.ID, in.Ready, in.Restarts)
			}
		}
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	if err := b.cmd.Wait(); err != nil {
		t.Errorf("server exit: %v", err)
	}
}

// waitServed waits until n requests of phase got HTTP 200.
func waitServed(ctx context.Context, t *testing.T, l *proxyLoad, phase int32, n int) {
	t.Helper()
	for {
		l.mu.Lock()
		ok := l.byPhase[phase][http.StatusOK]
		l.mu.Unlock()
		if ok >= n {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("only %d requests served in phase %d", ok, phase)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// replaceOnce replaces the one occurrence of old in s.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if strings.Count(s, old) != 1 {
		t.Fatalf("%q is not once in:\n%s", old, s)
	}
	return strings.Replace(s, old, new, 1)
}
