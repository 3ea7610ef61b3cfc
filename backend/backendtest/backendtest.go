// Package backendtest is the conformance suite every backend.Backend
// passes: scaling up and down, scaling to zero, consistent instance fields,
// two revisions side by side, a revision's baseline group apart from its
// primary instances (backends that implement rollout.GroupBackend), logs (read and followed), adoption by a new
// backend after Release, and Shutdown. Backends run it from their own tests:
//
//	func TestBackend(t *testing.T) {
//		backendtest.Run(t, func(t *testing.T) backendtest.Harness { ... })
//	}
package backendtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/rollout"
)

// Harness is one backend under test.
type Harness struct {
	// Backend is the backend under test; the harness's constructor stops
	// what it runs when the test ends (t.Cleanup).
	Backend backend.Backend
	// Reopen returns a new backend over what Backend runs (the same data
	// directory, the same cluster), as the next leader makes it, stopped
	// when the test ends. Nil: the adoption test is skipped.
	Reopen func(t *testing.T) backend.Backend
	// Revision returns revision number of app in env whose instances run
	// the sample workload (package sample) reporting version, which may
	// carry knobs ("v2+latency=10ms"). Its readiness probe is GET /ready.
	Revision func(app, env string, number int, version string) rollout.Revision
	// Timeout bounds each wait for the backend to reach a state. Zero: 2 minutes.
	Timeout time.Duration
	// Reach returns the address the test reaches an instance on. Nil:
	// its Addr. A cluster's pods are not reachable from the test's host;
	// a harness whose instances are served elsewhere maps them here.
	Reach func(addr string) string
	// LogsGoWithInstance says an instance's log is gone once it is
	// stopped (a pod's log on Kubernetes goes with the pod); the check
	// that a stopped instance's log stays readable is then skipped.
	LogsGoWithInstance bool
}

// reach is the address the test reaches addr on.
func (h Harness) reach(addr string) string {
	if h.Reach == nil || addr == "" {
		return addr
	}
	return h.Reach(addr)
}

// Run runs the suite. newBackend is called once per subtest.
func Run(t *testing.T, newBackend func(t *testing.T) Harness) {
	tests := []struct {
		name string
		test func(t *testing.T, h Harness)
	}{
		{"ScaleUp", testScaleUp},
		{"ScaleDown", testScaleDown},
		{"ScaleToZero", testScaleToZero},
		{"InstanceFields", testInstanceFields},
		{"TwoRevisions", testTwoRevisions},
		{"Groups", testGroups},
		{"Logs", testLogs},
		{"ReleaseAndRecover", testReleaseAndRecover},
		{"Shutdown", testShutdown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newBackend(t)
			if h.Timeout == 0 {
				h.Timeout = 2 * time.Minute
			}

			tt.test(t, h)
		})
	}
}

// WaitFor polls cond every 20ms until it holds or timeout passes; then it
// fails the test with the last instances and what was awaited.
func WaitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s still waiting for %s; now: %s", timeout, what, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Of keeps the instances of revision rev.
func Of(instances []rollout.Instance, rev int) []rollout.Instance {
	var out []rollout.Instance
	for _, in := range instances {
		if in.Revision == rev {
			out = append(out, in)
		}
	}
	return out
}

// Describe renders instances for failure messages.
func Describe(instances []rollout.Instance) string {
	b, _ := json.Marshal(instances)
	return string(b)
}

// ReadyCount counts ready instances of rev, and all instances of rev.
func ReadyCount(instances []rollout.Instance, rev int) (ready, all int) {
	for _, in := range Of(instances, rev) {
		all++
		if in.Ready {
			ready++
		}
	}
	return ready, all
}

// waitReady waits until rev has exactly n instances, all ready.
func waitReady(t *testing.T, h Harness, rev rollout.Revision, n int) []rollout.Instance {
	t.Helper()
	var got []rollout.Instance
	WaitFor(t, h.Timeout, fmt.Sprintf("%d ready instances of %s/%s revision %d", n, rev.App, rev.Env, rev.Number), func() (bool, string) {
		got = h.Backend.Instances(rev.App, rev.Env)
		ready, all := ReadyCount(got, rev.Number)
		return ready == n && all == n, Describe(got)
	})
	return Of(got, rev.Number)
}

func scale(t *testing.T, h Harness, rev rollout.Revision, n int) {
	t.Helper()
	if err := h.Backend.Scale(context.Background(), rev, n); err != nil {
		t.Fatalf("Scale(revision %d, %d): %v", rev.Number, n, err)
	}
}

// Get fetches http://addr/path and returns status and body.
func Get(addr, path string) (int, string, error) {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// answersVersion checks that the instance at addr serves version.
func answersVersion(t *testing.T, addr, version string) {
	t.Helper()
	code, body, err := Get(addr, "/")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET http://%s/ = %d %q %v, want 200", addr, code, body, err)
	}
	var got struct{ Version string }
	if err := json.Unmarshal([]byte(body), &got); err != nil || got.Version != version {
		t.Errorf("GET http://%s/ served version %q (%v), want %q", addr, got.Version, err, version)
	}
}

func testScaleUp(t *testing.T, h Harness) {
	rev := h.Revision("up", "test", 1, "v1")
	scale(t, h, rev, 3)
	got := waitReady(t, h, rev, 3)
	seen := map[string]bool{}
	for _, in := range got {
		if seen[in.Addr] {
			t.Errorf("two instances serve on %s: %s", in.Addr, Describe(got))
		}
		seen[in.Addr] = true
		answersVersion(t, h.reach(in.Addr), "v1")
	}
	scale(t, h, rev, 3) // idempotent
	if n := len(Of(h.Backend.Instances("up", "test"), 1)); n != 3 {
		t.Errorf("after scaling to 3 again: %d instances, want 3", n)
	}
}

func testScaleDown(t *testing.T, h Harness) {
	rev := h.Revision("down", "test", 1, "v1")
	scale(t, h, rev, 3)
	before := waitReady(t, h, rev, 3)
	scale(t, h, rev, 1)
	after := waitReady(t, h, rev, 1)
	kept := false
	for _, in := range before {
		kept = kept || in.ID == after[0].ID
	}
	if !kept {
		t.Errorf("the surviving instance %s is not one of the first three: %s", after[0].ID, Describe(before))
	}
	answersVersion(t, h.reach(after[0].Addr), "v1")
	for _, in := range before {
		if in.ID == after[0].ID {
			continue
		}
		if _, _, err := Get(h.reach(in.Addr), "/"); err == nil {
			t.Errorf("stopped instance %s still answers on %s", in.ID, in.Addr)
		}
	}
}

func testScaleToZero(t *testing.T, h Harness) {
	rev := h.Revision("zero", "test", 1, "v1")
	scale(t, h, rev, 2)
	before := waitReady(t, h, rev, 2)
	scale(t, h, rev, 0)
	WaitFor(t, h.Timeout, "no instances", func() (bool, string) {
		got := h.Backend.Instances("zero", "test")
		return len(got) == 0, Describe(got)
	})
	for _, in := range before {
		if _, _, err := Get(h.reach(in.Addr), "/"); err == nil {
			t.Errorf("stopped instance %s still answers on %s", in.ID, in.Addr)
		}
	}
	if got := h.Backend.Instances("nobody", "test"); len(got) != 0 {
		t.Errorf("instances of an unknown app: %s", Describe(got))
	}
}

func testInstanceFields(t *testing.T, h Harness) {
	rev := h.Revision("fields", "staging", 4, "v4")
	start := time.Now()
	scale(t, h, rev, 2)
	got := waitReady(t, h, rev, 2)
	ids := map[string]bool{}
	for _, in := range got {
		if in.ID == "" || ids[in.ID] {
			t.Errorf("instance ID %q is empty or not unique", in.ID)
		}
		ids[in.ID] = true
		if in.App != "fields" || in.Env != "staging" || in.Revision != 4 || in.Version != "v4" {
			t.Errorf("instance %s is of %s/%s revision %d version %q, want fields/staging revision 4 v4", in.ID, in.App, in.Env, in.Revision, in.Version)
		}
		if in.State != rollout.Running || !in.Ready || in.Addr == "" {
			t.Errorf("instance %s: state %s ready %v addr %q, want Running, ready, an address", in.ID, in.State, in.Ready, in.Addr)
		}
		if in.StartedAt.Before(start.Add(-time.Second)) || in.ReadySince.Before(in.StartedAt) {
			t.Errorf("instance %s: started %s, ready since %s; want started after %s and ready after start", in.ID, in.StartedAt, in.ReadySince, start)
		}
		if !in.Available(in.ReadySince, 0) {
			t.Errorf("instance %s is not available: %+v", in.ID, in)
		}
		if in.Restarts != 0 || in.LastExit != "" {
			t.Errorf("instance %s: %d restarts, last exit %q; want none", in.ID, in.Restarts, in.LastExit)
		}
	}
	// Snapshots are copies.
	snap := h.Backend.Instances("fields", "staging")
	snap[0].ID = "changed"
	if h.Backend.Instances("fields", "staging")[0].ID == "changed" {
		t.Error("Instances returned the backend's own memory, not a copy")
	}
	if got := h.Backend.Instances("fields", "production"); len(got) != 0 {
		t.Errorf("instances leak into another environment: %s", Describe(got))
	}
}

func testTwoRevisions(t *testing.T, h Harness) {
	r1 := h.Revision("two", "test", 1, "v1")
	r2 := h.Revision("two", "test", 2, "v2")
	scale(t, h, r1, 2)
	scale(t, h, r2, 1)
	waitReady(t, h, r1, 2)
	for _, in := range waitReady(t, h, r2, 1) {
		answersVersion(t, h.reach(in.Addr), "v2")
	}
	scale(t, h, r1, 0)
	WaitFor(t, h.Timeout, "revision 1 gone, revision 2 untouched", func() (bool, string) {
		got := h.Backend.Instances("two", "test")
		ready2, all2 := ReadyCount(got, 2)
		return len(Of(got, 1)) == 0 && ready2 == 1 && all2 == 1, Describe(got)
	})
	for _, in := range Of(h.Backend.Instances("two", "test"), 2) {
		answersVersion(t, h.reach(in.Addr), "v2")
	}
}
