package routertest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router"
)

func formatStats(s router.RevisionStats) string {
	return fmt.Sprintf("{revision %d: %d requests, %d errors, weight %.1f}", s.Revision, s.Requests, s.Errors, s.Weight)
}

// testPreview: a preview listener serves only the preview revision while
// the main listener serves the split; it closes when no longer asked for.
func testPreview(t *testing.T, h Harness) {
	e := router.Environment{App: "preview", Name: "test"}
	open(t, h, e)
	if got := h.Router.PreviewAddr("preview", "test"); got != "" {
		t.Errorf("PreviewAddr without Preview = %q, want none", got)
	}
	e.Preview = true
	addr := open(t, h, e)
	preview := h.Router.PreviewAddr("preview", "test")
	if preview == "" || preview == addr {
		t.Fatalf("PreviewAddr = %q (main %q), want a listener of its own", preview, addr)
	}
	blue, green := start(t, "preview", "test", 1, "blue"), start(t, "preview", "test", 2, "green")
	setInstances(t, h, "preview", "test", blue, green)
	setTraffic(t, h, "preview", "test", rollout.Traffic{Weights: map[int]int{1: 100}, Preview: 2})
	if got := count(t, addr, 20); got["blue"] != 20 {
		t.Errorf("main listener before the switch: %s, want every request on blue", describe(got))
	}
	if got := count(t, preview, 20); got["green"] != 20 {
		t.Errorf("preview listener: %s, want every request on green", describe(got))
	}
	setTraffic(t, h, "preview", "test", rollout.Traffic{Weights: map[int]int{2: 100}})
	if got := count(t, addr, 20); got["green"] != 20 {
		t.Errorf("main listener after the switch: %s, want every request on green", describe(got))
	}
	e.Preview = false
	open(t, h, e)
	if got := h.Router.PreviewAddr("preview", "test"); got != "" {
		t.Errorf("PreviewAddr after the preview is no longer asked for = %q, want none", got)
	}
	waitRefused(t, h, "the closed preview listener "+preview, preview)
}

// testDrain: Drain waits for a request in flight to an instance taken out
// of traffic, and returns once it is answered.
func testDrain(t *testing.T, h Harness) {
	addr := open(t, h, router.Environment{App: "drain", Name: "test"})
	old, next := start(t, "drain", "test", 1, "old"), start(t, "drain", "test", 2, "next")
	old.hold = make(chan struct{})
	setInstances(t, h, "drain", "test", old)
	answered := make(chan string, 1)
	go func() {
		code, body, _, err := get(addr, "/slow")
		answered <- fmt.Sprintf("%d %s %v", code, body, err)
	}()
	select {
	case <-old.entered:
	case <-time.After(h.Timeout):
		t.Fatal("the slow request never reached the instance")
	}
	setInstances(t, h, "drain", "test", next)
	drained := make(chan error, 1)
	go func() { drained <- h.Router.Drain(closeAfter(t, h), old.Addr) }()
	if got := count(t, addr, 10); got["next"] != 10 {
		t.Errorf("while draining old: %s, want new requests on next", describe(got))
	}
	select {
	case err := <-drained:
		t.Fatalf("Drain returned (%v) while a request to %s was in flight", err, old.Addr)
	case <-time.After(100 * time.Millisecond):
	}
	close(old.hold)
	if err := <-drained; err != nil {
		t.Errorf("Drain: %v", err)
	}
	if got := <-answered; got != "200 old <nil>" {
		t.Errorf("the drained request got %q, want 200 from old", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Router.Drain(ctx, next.Addr); err != nil {
		t.Errorf("Drain of an idle instance: %v, want nil at once", err)
	}
}

// testMovedListener: opening an environment on a new address moves it
// there with its instances and split; the old address stops answering.
func testMovedListener(t *testing.T, h Harness) {
	first := open(t, h, router.Environment{App: "moved", Name: "test"})
	setInstances(t, h, "moved", "test", start(t, "moved", "test", 1, "a"), start(t, "moved", "test", 2, "b"))
	setTraffic(t, h, "moved", "test", rollout.Traffic{Weights: map[int]int{2: 100}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	want := ln.Addr().String()
	ln.Close()
	if got := open(t, h, router.Environment{App: "moved", Name: "test", Listen: want}); got != want {
		t.Fatalf("Addr after moving to %s = %s", want, got)
	}
	if got := count(t, want, 10); got["b"] != 10 {
		t.Errorf("on the new address: %s, want the split kept (every request on b)", describe(got))
	}
	waitRefused(t, h, "the old address "+first, first)
	// An address that is taken leaves the environment as it was.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if err := h.Router.Open(router.Environment{App: "moved", Name: "test", Listen: busy.Addr().String()}); err == nil {
		t.Errorf("Open on the busy %s succeeded, want an error", busy.Addr())
	}
	if got := h.Router.Addr("moved", "test"); got != want {
		t.Errorf("after a refused move: Addr %s, want still %s", got, want)
	}
	if code, _, _, err := get(want, "/"); err != nil || code != http.StatusOK {
		t.Errorf("after a refused move: %d %v, want still served", code, err)
	}
}

// testNotOpen: an environment that is not open has no address; commands
// for it fail, and instances reported for it are ignored.
func testNotOpen(t *testing.T, h Harness) {
	if err := h.Router.SetTraffic("nobody", "test", rollout.Traffic{}); err == nil {
		t.Error("SetTraffic of an environment that is not open succeeded, want an error")
	}
	if err := h.Router.SetMaintenance("nobody", "test", true); err == nil {
		t.Error("SetMaintenance of an environment that is not open succeeded, want an error")
	}
	if err := h.Router.SetInstances("nobody", "test", nil); err != nil {
		t.Errorf("SetInstances of an environment that is not open: %v, want it ignored", err)
	}
	if a, p, s := h.Router.Addr("nobody", "test"), h.Router.PreviewAddr("nobody", "test"), h.Router.Stats("nobody", "test"); a != "" || p != "" || s != nil {
		t.Errorf("an environment that is not open: Addr %q, PreviewAddr %q, Stats %v; want none", a, p, s)
	}
	addr := open(t, h, router.Environment{App: "open", Name: "test"})
	if err := h.Router.Close(context.Background()); err != nil {
		t.Errorf("Close: %v", err)
	}
	waitRefused(t, h, addr+" after Close", addr)
}

// waitRefused waits until a request to addr fails: a listener a router
// closes may finish closing (in a data plane process) just after the call
// that closed it returns.
func waitRefused(t *testing.T, h Harness, what, addr string) {
	t.Helper()
	waitFor(t, h, what+" to refuse requests", func() (bool, string) {
		code, _, _, err := get(addr, "/")
		return err != nil, fmt.Sprintf("it answered %d", code)
	})
}
