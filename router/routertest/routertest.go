// Package routertest is the conformance suite every router.Router passes:
// even and weighted splits, only ready instances in traffic, maintenance,
// the preview listener, draining, a moved listener, per-revision stats, a
// canary's baseline group routed and counted apart, and
// clear errors for environments that are not open. Upstreams are real HTTP
// servers on loopback ports. Routers run it from their own tests:
//
//	func TestRouter(t *testing.T) {
//		routertest.Run(t, func(t *testing.T) routertest.Harness { ... })
//	}
package routertest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router"
)

// Harness is one router under test.
type Harness struct {
	// Router is the router under test, with no environment open; the
	// harness's constructor closes it when the test ends (t.Cleanup).
	Router router.Router
	// Timeout bounds each wait for the router to reach a state. Zero: 1 minute.
	Timeout time.Duration
}

// Run runs the suite. newRouter is called once per subtest.
func Run(t *testing.T, newRouter func(t *testing.T) Harness) {
	tests := []struct {
		name string
		test func(t *testing.T, h Harness)
	}{
		{"EvenSplit", testEvenSplit},
		{"Weights", testWeights},
		{"OnlyReadyInstances", testOnlyReady},
		{"Maintenance", testMaintenance},
		{"Preview", testPreview},
		{"Drain", testDrain},
		{"MovedListener", testMovedListener},
		{"Stats", testStats},
		{"Baseline", testBaseline},
		{"NotOpen", testNotOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newRouter(t)
			if h.Timeout == 0 {
				h.Timeout = time.Minute
			}
			tt.test(t, h)
		})
	}
}

// upstream is one instance: an HTTP server answering its ID.
type upstream struct {
	rollout.Instance
	// status is what it answers; 0: 200.
	status atomic.Int32
	// hold, when set, makes /slow wait until it is closed; entered gets a
	// value when such a request arrives.
	hold, entered chan struct{}
}

// start runs an upstream of revision rev until the test ends.
func start(t *testing.T, app, env string, rev int, id string) *upstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream{Instance: rollout.Instance{
		ID: id, App: app, Env: env, Revision: rev, Version: "v" + strconv.Itoa(rev),
		State: rollout.Running, Ready: true, Addr: ln.Addr().String(), StartedAt: time.Now(), ReadySince: time.Now(),
	}, entered: make(chan struct{}, 1)}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" && u.hold != nil {
			u.entered <- struct{}{}
			<-u.hold
		}
		code := int(u.status.Load())
		if code == 0 {
			code = http.StatusOK
		}
		w.WriteHeader(code)
		io.WriteString(w, u.ID)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return u
}

func instances(us ...*upstream) []rollout.Instance {
	out := make([]rollout.Instance, len(us))
	for i, u := range us {
		out[i] = u.Instance
	}
	return out
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// get requests http://addr/path and returns the status, the body (the ID
// of the instance that answered) and the response's headers.
func get(addr, path string) (int, string, http.Header, error) {
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header, err
}

// count sends n requests to addr and counts the answers by body.
func count(t *testing.T, addr string, n int) map[string]int {
	t.Helper()
	out := map[string]int{}
	for range n {
		code, body, _, err := get(addr, "/")
		if err != nil {
			t.Fatalf("GET http://%s/: %v", addr, err)
		}
		if code != http.StatusOK {
			body = fmt.Sprintf("%d %s", code, body)
		}
		out[body]++
	}
	return out
}

// waitFor polls cond every 20ms until it holds or the harness's timeout
// passes, then fails the test with cond's last state.
func waitFor(t *testing.T, h Harness, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(h.Timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s still waiting for %s; now: %s", h.Timeout, what, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// open opens app/env with e's other fields and fails the test on an error.
func open(t *testing.T, h Harness, e router.Environment) string {
	t.Helper()
	if err := h.Router.Open(e); err != nil {
		t.Fatalf("Open(%+v): %v", e, err)
	}
	addr := h.Router.Addr(e.App, e.Name)
	if addr == "" {
		t.Fatalf("Addr of the opened %s/%s is empty", e.App, e.Name)
	}
	return addr
}

func setInstances(t *testing.T, h Harness, app, env string, us ...*upstream) {
	t.Helper()
	if err := h.Router.SetInstances(app, env, instances(us...)); err != nil {
		t.Fatalf("SetInstances: %v", err)
	}
}

func setTraffic(t *testing.T, h Harness, app, env string, tr rollout.Traffic) {
	t.Helper()
	if err := h.Router.SetTraffic(app, env, tr); err != nil {
		t.Fatalf("SetTraffic(%+v): %v", tr, err)
	}
}

func describe(m map[string]int) string {
	var b strings.Builder
	for k, v := range m {
		fmt.Fprintf(&b, "%s=%d ", k, v)
	}
	return b.String()
}

// closeAfter returns a context that ends after the harness's timeout.
func closeAfter(t *testing.T, h Harness) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), h.Timeout)
	t.Cleanup(cancel)
	return ctx
}
