package backendtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/rollout"
)

// readLog reads an instance's whole log as it is now.
func readLog(t *testing.T, b backend.Backend, in rollout.Instance, o backend.LogOptions) string {
	t.Helper()
	r, err := b.Logs(context.Background(), in.App, in.Env, in.ID, o)
	if err != nil {
		t.Fatalf("Logs(%s, %+v): %v", in.ID, o, err)
	}
	defer r.Close()
	text, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read the log of %s: %v", in.ID, err)
	}
	return string(text)
}

// follow copies a followed log into a buffer until the stream ends.
type follow struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan error
}

func (f *follow) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.buf.Write(p)
}

func (f *follow) text() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.buf.String()
}

// testLogs: an instance's log holds what the sample wrote at its start; a
// followed log delivers the line it writes when stopped; the log stays
// readable after the instance is gone; unknown instances are not found.
func testLogs(t *testing.T, h Harness) {
	rev := h.Revision("logs", "test", 1, "v1")
	scale(t, h, rev, 1)
	in := waitReady(t, h, rev, 1)[0]
	var whole string
	WaitFor(t, h.Timeout, "the start line in the log", func() (bool, string) {
		whole = readLog(t, h.Backend, in, backend.LogOptions{})
		return strings.Contains(whole, "gantry-sample v1 started"), whole
	})
	if tail := readLog(t, h.Backend, in, backend.LogOptions{TailBytes: 8}); len(tail) != 8 || !strings.HasSuffix(whole, tail) {
		t.Errorf("TailBytes 8 gave %q, want the last 8 bytes of %q", tail, whole)
	}

	r, err := h.Backend.Logs(context.Background(), "logs", "test", in.ID, backend.LogOptions{Follow: true, TailBytes: 1})
	if err != nil {
		t.Fatalf("Logs(follow): %v", err)
	}
	f := &follow{done: make(chan error, 1)}
	go func() {
		_, err := io.Copy(f, r)
		f.done <- err
	}()
	scale(t, h, rev, 0)
	WaitFor(t, h.Timeout, "the stop line in the followed log", func() (bool, string) {
		return strings.Contains(f.text(), "gantry-sample v1 stopped"), f.text()
	})
	if err := r.Close(); err != nil {
		t.Errorf("Close of a followed log: %v", err)
	}
	if err := <-f.done; err != nil {
		t.Errorf("reading a followed log until Close: %v, want a clean end", err)
	}
	WaitFor(t, h.Timeout, "no instances", func() (bool, string) {
		got := h.Backend.Instances("logs", "test")
		return len(got) == 0, Describe(got)
	})
	if h.LogsGoWithInstance {
		// The log went with the instance: nothing more to read.
	} else if after := readLog(t, h.Backend, in, backend.LogOptions{}); !strings.Contains(after, "gantry-sample v1 stopped") {
		t.Errorf("the log of the stopped instance %s lacks its stop line: %q", in.ID, after)
	}
	for _, id := range []string{"nobody", "../" + in.ID, ""} {
		if _, err := h.Backend.Logs(context.Background(), "logs", "test", id, backend.LogOptions{}); !errors.Is(err, rollout.ErrNotFound) {
			t.Errorf("Logs of instance %q = %v, want an error wrapping rollout.ErrNotFound", id, err)
		}
	}
	if _, err := h.Backend.Logs(context.Background(), "logs", "production", in.ID, backend.LogOptions{}); !errors.Is(err, rollout.ErrNotFound) {
		t.Errorf("Logs of %s in another environment = %v, want an error wrapping rollout.ErrNotFound", in.ID, err)
	}
}

// testReleaseAndRecover: instances outlive a released backend; a new one
// adopts those of known revisions, unchanged, and stops the others.
func testReleaseAndRecover(t *testing.T, h Harness) {
	if h.Reopen == nil {
		t.Skip("the harness cannot reopen this backend")
	}
	known := h.Revision("adopt", "test", 1, "v1")
	unknown := h.Revision("adopt", "test", 2, "v2")
	scale(t, h, known, 2)
	scale(t, h, unknown, 1)
	before := waitReady(t, h, known, 2)
	gone := waitReady(t, h, unknown, 1)[0]
	h.Backend.Release()
	for _, in := range append(before, gone) {
		answersVersion(t, h.reach(in.Addr), in.Version)
	}

	next := h.Reopen(t)
	lookup := func(app, env string, n int) (rollout.Revision, error) {
		if app == known.App && env == known.Env && n == known.Number {
			return known, nil
		}
		return rollout.Revision{}, fmt.Errorf("revision %d of %s/%s: %w", n, app, env, rollout.ErrNotFound)
	}
	if err := next.Recover(context.Background(), lookup); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	adopted := h
	adopted.Backend = next
	after := waitReady(t, adopted, known, 2)
	for i, in := range before {
		if after[i].ID != in.ID || after[i].Addr != in.Addr || after[i].Version != in.Version {
			t.Errorf("adopted instance %d is %s on %s (%s), want %s on %s (%s), unchanged",
				i, after[i].ID, after[i].Addr, after[i].Version, in.ID, in.Addr, in.Version)
		}
	}
	WaitFor(t, h.Timeout, "the instance of the unknown revision stopped", func() (bool, string) {
		got := next.Instances("adopt", "test")
		return len(Of(got, unknown.Number)) == 0, Describe(got)
	})
	if _, _, err := Get(h.reach(gone.Addr), "/"); err == nil {
		t.Errorf("the instance %s of a revision the lookup does not know still answers on %s", gone.ID, gone.Addr)
	}

	// The released backend's Shutdown must leave the adopted instances alone.
	if err := h.Backend.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown after Release: %v", err)
	}
	for _, in := range after {
		answersVersion(t, h.reach(in.Addr), "v1")
	}
	scale(t, adopted, known, 1)
	last := waitReady(t, adopted, known, 1)[0]
	if last.ID != before[0].ID && last.ID != before[1].ID {
		t.Errorf("after scaling the adopted revision to 1, %s runs; want one of the adopted %s, %s", last.ID, before[0].ID, before[1].ID)
	}
}

// testShutdown: every instance of every app stops, and Scale fails afterwards.
func testShutdown(t *testing.T, h Harness) {
	a := h.Revision("stop-a", "test", 1, "v1")
	b := h.Revision("stop-b", "production", 3, "v3")
	scale(t, h, a, 2)
	scale(t, h, b, 1)
	running := append(waitReady(t, h, a, 2), waitReady(t, h, b, 1)...)
	if err := h.Backend.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for _, app := range []struct{ app, env string }{{"stop-a", "test"}, {"stop-b", "production"}} {
		if got := h.Backend.Instances(app.app, app.env); len(got) != 0 {
			t.Errorf("after Shutdown %s/%s has instances: %s", app.app, app.env, Describe(got))
		}
	}
	for _, in := range running {
		if _, _, err := Get(h.reach(in.Addr), "/"); err == nil {
			t.Errorf("instance %s still answers on %s after Shutdown", in.ID, in.Addr)
		}
	}
	if err := h.Backend.Scale(context.Background(), a, 1); err == nil {
		t.Error("Scale after Shutdown succeeded, want an error")
	}
}
