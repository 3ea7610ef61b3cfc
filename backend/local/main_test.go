package local

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/backend/backendtest"
	"github.com/gantry-dev/gantry/internal/testbin"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// samplePath is the sample workload binary, built once by TestMain.
var samplePath string

func TestMain(m *testing.M) {
	os.Exit(testbin.Main(m, "github.com/gantry-dev/gantry/cmd/gantry-sample", &samplePath))
}

// timeout bounds every wait in these tests: generous, so a slow machine
// only makes them slower.
const timeout = 2 * time.Minute

// events collects a backend's events.
type events struct {
	mu   sync.Mutex
	list []rollout.Event
}

func (e *events) add(ev rollout.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
}

// find returns the events with reason whose message contains text.
func (e *events) find(reason rollout.Reason, text string) []rollout.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []rollout.Event
	for _, ev := range e.list {
		if ev.Reason == reason && strings.Contains(ev.Message, text) {
			out = append(out, ev)
		}
	}
	return out
}

func (e *events) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	for _, ev := range e.list {
		fmt.Fprintf(&b, "\n  %s %s: %s", ev.Type, ev.Reason, ev.Message)
	}
	return b.String()
}

// newTestBackend returns a backend on a fresh DataDir (unless opts has
// one) that is shut down when the test ends.
func newTestBackend(t *testing.T, opts Options) (*Backend, *events) {
	t.Helper()
	ev := &events{}
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if opts.Event == nil {
		opts.Event = ev.add
	}
	if opts.StatsInterval == 0 {
		opts.StatsInterval = 200 * time.Millisecond
	}
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return b, ev
}

// sampleRevision is a revision running the sample workload with version
// (and its knobs), probed for readiness on /ready every second.
func sampleRevision(app, env string, number int, version string) rollout.Revision {
	grace := 30
	return rollout.Revision{
		App: app, Env: env, Number: number, Version: version,
		Spec: spec.AppSpec{
			Workload: spec.Workload{
				Command: samplePath,
				Args:    []string{"--port", "{{.Port}}", "--version", "{{.Version}}"},
			},
			ReadinessProbe:                &spec.Probe{HTTPGet: &spec.HTTPGetAction{Path: "/ready"}, PeriodSeconds: 1},
			TerminationGracePeriodSeconds: &grace,
		},
		CreatedAt: time.Now(),
	}
}

func TestBackend_Conformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backendtest.Harness {
		dir := t.TempDir()
		b, _ := newTestBackend(t, Options{DataDir: dir})
		return backendtest.Harness{
			Backend:  b,
			Reopen:   func(t *testing.T) backend.Backend { b, _ := newTestBackend(t, Options{DataDir: dir}); return b },
			Revision: sampleRevision,
			Timeout:  timeout,
		}
	})
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	backendtest.WaitFor(t, timeout, what, cond)
}

// one waits until app/env has exactly one instance satisfying cond and returns it.
func one(t *testing.T, b *Backend, app, env, what string, cond func(rollout.Instance) bool) rollout.Instance {
	t.Helper()
	var got rollout.Instance
	waitFor(t, what, func() (bool, string) {
		all := b.Instances(app, env)
		if len(all) != 1 || !cond(all[0]) {
			return false, backendtest.Describe(all)
		}
		got = all[0]
		return true, ""
	})
	return got
}

// processGone reports whether no process runs with pid or in its group.
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); err == nil {
		if st, err := readStat(pid); err == nil && st.state != 'Z' {
			return false
		}
	}
	_, live := scanGroups()[pid]
	return !live
}

func scale(t *testing.T, b *Backend, rev rollout.Revision, n int) {
	t.Helper()
	if err := b.Scale(context.Background(), rev, n); err != nil {
		t.Fatal(err)
	}
}
