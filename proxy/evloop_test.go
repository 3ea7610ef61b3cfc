//go:build linux

package proxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// served counts the proxy's client connections served by an event loop
// and by goroutines.
func served(p *Proxy) (loops, goroutines int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		if c.ev.loop.Load() != nil {
			loops++
		} else {
			goroutines++
		}
	}
	return loops, goroutines
}

func TestEventLoop_ServesPlainConnections(t *testing.T) {
	up := startRaw(t, pathResponder(nil))
	for _, tc := range []struct {
		loops         int
		wantInLoop    bool
		wantLoopCount int
	}{
		{loops: 0, wantInLoop: true, wantLoopCount: 2},
		{loops: 3, wantInLoop: true, wantLoopCount: 3},
		{loops: -1, wantInLoop: false, wantLoopCount: 0},
	} {
		p := startProxy(t, Options{EventLoops: tc.loops})
		p.SetTable(table(rev(1, 100, up.addr())))
		if tc.loops == 0 {
			tc.wantLoopCount = len(p.loops) // GOMAXPROCS
		}
		if len(p.loops) != tc.wantLoopCount {
			t.Errorf("EventLoops %d: %d loops, want %d", tc.loops, len(p.loops), tc.wantLoopCount)
		}
		c, br := dialProxy(t, p)
		io.WriteString(c, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
		if got := readBodies(t, br, 1)[0]; got != "/x" {
			t.Errorf("EventLoops %d: body %q, want /x", tc.loops, got)
		}
		if l, g := served(p); (l == 1) != tc.wantInLoop || l+g != 1 {
			t.Errorf("EventLoops %d: %d connections in loops, %d on goroutines; want in a loop: %v", tc.loops, l, g, tc.wantInLoop)
		}
	}
}

// A request with a body is handed to a goroutine mid-connection, with the
// requests pipelined behind it; the connection keeps working.
func TestEventLoop_HandOffMidConnection(t *testing.T) {
	up := startRaw(t, pathResponder(nil))
	p := startProxy(t, Options{})
	p.SetTable(table(rev(1, 100, up.addr())))
	c, br := dialProxy(t, p)

	io.WriteString(c, "GET /first HTTP/1.1\r\nHost: x\r\n\r\n")
	if got := readBodies(t, br, 1)[0]; got != "/first" {
		t.Fatalf("body %q, want /first", got)
	}
	if l, _ := served(p); l != 1 {
		t.Fatal("a bodiless request on a plain connection was not served by an event loop")
	}
	// Behind the body request, in the same write: requests the goroutine
	// that takes the connection over must find in the buffer it inherits.
	io.WriteString(c, "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"+
		"GET /after HTTP/1.1\r\nHost: x\r\n\r\n"+
		"GET /last HTTP/1.1\r\nHost: x\r\n\r\n")
	if got := strings.Join(readBodies(t, br, 3), " "); got != "/body /after /last" {
		t.Errorf("bodies %q, want /body /after /last", got)
	}
	if l, g := served(p); l != 0 || g != 1 {
		t.Errorf("%d connections in loops, %d on goroutines after the hand-off; want 0 and 1", l, g)
	}
	checkSettled(t, p, RevisionStats{Requests: 4})
}

// A head begun and not finished inside a loop gets 408 when
// HeaderTimeout fires there; a connection left idle is closed.
func TestEventLoop_Timeouts(t *testing.T) {
	up := startRaw(t, pathResponder(nil))
	p := startProxy(t, Options{HeaderTimeout: short, IdleTimeout: short})
	p.SetTable(table(rev(1, 100, up.addr())))

	c, br := dialProxy(t, p)
	eventually(t, "the connection to reach its loop", func() bool { l, _ := served(p); return l == 1 })
	io.WriteString(c, "GET / HTTP/1.1\r\nHo")
	if got := readStatus(t, br); got != 408 {
		t.Errorf("unfinished head: status %d, want 408", got)
	}
	expectClosed(t, br)
	if n := rejectedFor(p, ReasonHeadTimeout); n != 1 {
		t.Errorf("head timeouts counted: %d, want 1", n)
	}

	c, br = dialProxy(t, p)
	io.WriteString(c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
	readBodies(t, br, 1)
	expectClosed(t, br) // IdleTimeout, in the loop
	eventually(t, "the idle connection to be forgotten", func() bool { l, g := served(p); return l+g == 0 })
}

// A client that sends requests and never reads the responses is bounded
// as on the goroutine path: once its socket takes no more, the connection
// is handed to a goroutine whose write times out after ClientWriteTimeout.
func TestEventLoop_ClientNeverReads(t *testing.T) {
	body := strings.Repeat("b", 12<<10)
	up := startRaw(t, fixedResponder(body))
	p := startProxy(t, Options{ClientWriteTimeout: short})
	p.SetTable(table(rev(1, 100, up.addr())))
	c, _ := dialProxy(t, p)
	c.(*net.TCPConn).SetReadBuffer(4 << 10)
	go func() {
		req := strings.Repeat("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 100)
		for i := 0; i < 1000; i++ { // until the proxy stops reading, or closes
			if _, err := io.WriteString(c, req); err != nil {
				return
			}
		}
	}()
	eventually(t, "the connection to be closed and counted client-closed", func() bool {
		l, g := served(p)
		return l+g == 0 && statsOf(p, 1).ClientClosed == 1
	})
}

// Shutdown lets a request in flight in a loop finish and closes the loop
// connections once idle, then stops the loops.
func TestEventLoop_ShutdownDrains(t *testing.T) {
	release := make(chan struct{})
	up := startRaw(t, pathResponder(map[string]chan struct{}{"/held": release}))
	p, err := Listen(Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	p.SetTable(table(rev(1, 100, up.addr())))
	busy, busyBR := dialProxy(t, p)
	idle, idleBR := dialProxy(t, p)
	io.WriteString(idle, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
	readBodies(t, idleBR, 1)
	io.WriteString(busy, "GET /held HTTP/1.1\r\nHost: x\r\n\r\n")
	eventually(t, "the held request to reach the upstream", func() bool { return statsOf(p, 1).InFlight == 1 })
	if l, _ := served(p); l != 2 {
		t.Fatalf("%d connections in loops, want 2", l)
	}

	done := make(chan error, 1)
	go func() { done <- p.Shutdown(context.Background()) }()
	expectClosed(t, idleBR)
	close(release)
	resp, err := http.ReadResponse(busyBR, nil)
	if err != nil {
		t.Fatalf("held request: %v", err)
	}
	if resp.StatusCode != 200 {
		t.Errorf("held request: status %d, want 200", resp.StatusCode)
	}
	io.Copy(io.Discard, resp.Body)
	expectClosed(t, busyBR) // idle once answered
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if len(p.loops) != 0 {
		t.Errorf("%d loops left after Shutdown", len(p.loops))
	}
}
