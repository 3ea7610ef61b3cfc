package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The timeout tests script slow peers and check that each exchange ends in
// the documented way and that nothing stays in flight. Timeouts are short so
// the tests end quickly; nothing asserts how fast anything happened.

const short = 200 * time.Millisecond

// dialProxy connects to the proxy, closed when the test ends.
func dialProxy(t *testing.T, p *Proxy) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return c, bufio.NewReader(c)
}

// readStatus reads one response and returns its status, or 0 when the
// connection ended first.
func readStatus(t *testing.T, br *bufio.Reader) int {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// expectClosed checks that the proxy closes the connection, after reading
// whatever it sends first.
func expectClosed(t *testing.T, br *bufio.Reader) {
	t.Helper()
	if _, err := io.Copy(io.Discard, br); err != nil {
		t.Errorf("connection not closed by the proxy: %v", err)
	}
}

// checkSettled checks that revision 1 has nothing in flight and the counts
// want.
func checkSettled(t *testing.T, p *Proxy, want RevisionStats) {
	t.Helper()
	s := settledStats(t, p, 1)
	if s.Requests != want.Requests || s.Status5xx != want.Status5xx || s.ProxyErrors != want.ProxyErrors ||
		s.ClientClosed != want.ClientClosed || s.Status4xx != 0 {
		t.Errorf("revision 1 stats = %+v, want requests %d, 5xx %d, proxy errors %d, client closed %d",
			s, want.Requests, want.Status5xx, want.ProxyErrors, want.ClientClosed)
	}
}

func TestProxy_HeaderTimeout(t *testing.T) {
	up := startUpstream(t, nameServer("x"))
	p := startProxy(t, Options{HeaderTimeout: short})
	p.SetTable(table(rev(1, 100, up)))

	t.Run("part of a head: 408", func(t *testing.T) {
		c, br := dialProxy(t, p)
		io.WriteString(c, "GET / HTTP/1.1\r\nHo")
		if got := readStatus(t, br); got != 408 {
			t.Errorf("status = %d, want 408", got)
		}
		expectClosed(t, br)
		eventually(t, "the refusal to be counted", func() bool { return rejectedFor(p, ReasonHeadTimeout) == 1 })
	})
	t.Run("nothing sent: closed", func(t *testing.T) {
		_, br := dialProxy(t, p)
		if b, err := io.ReadAll(br); err != nil || len(b) != 0 {
			t.Errorf("got %q (err %v), want the connection closed without a response", b, err)
		}
	})
	t.Run("a slow head on a kept-alive connection: 408", func(t *testing.T) {
		c, br := dialProxy(t, p)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if got := readStatus(t, br); got != 200 {
			t.Fatalf("first request: status %d, want 200", got)
		}
		// A byte every 20ms until the proxy answers: each read is quick, the
		// head never ends, so only a bound on the whole head stops it.
		io.WriteString(c, "GET / HTTP/1.1\r\n")
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(short / 10):
				}
				if _, err := io.WriteString(c, "X"); err != nil {
					return
				}
			}
		}()
		if got := readStatus(t, br); got != 408 {
			t.Errorf("status = %d, want 408", got)
		}
	})
	checkSettled(t, p, RevisionStats{Requests: 1})
}

func TestProxy_IdleTimeout(t *testing.T) {
	up := startUpstream(t, nameServer("x"))
	p := startProxy(t, Options{IdleTimeout: short})
	p.SetTable(table(rev(1, 100, up)))
	c, br := dialProxy(t, p)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if got := readStatus(t, br); got != 200 {
		t.Fatalf("status = %d, want 200", got)
	}
	if b, err := io.ReadAll(br); err != nil || len(b) != 0 {
		t.Errorf("got %q (err %v), want the idle connection closed without a response", b, err)
	}
	checkSettled(t, p, RevisionStats{Requests: 1})
}

func TestProxy_BodyTimeout(t *testing.T) {
	up, got := startCapture(t)
	p := startProxy(t, Options{BodyTimeout: short})
	p.SetTable(table(rev(1, 100, up)))
	for _, tc := range []struct{ name, req string }{
		{"length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"},
		{"chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, br := dialProxy(t, p)
			io.WriteString(c, tc.req)
			if status := readStatus(t, br); status != 408 {
				t.Errorf("status = %d, want 408", status)
			}
			if r := <-got; r.complete {
				t.Errorf("upstream got a complete request %q", r.body)
			}
		})
	}
	eventually(t, "the refusals to be counted", func() bool { return rejectedFor(p, ReasonBodyTimeout) == 2 })
	checkSettled(t, p, RevisionStats{})
}

func TestProxy_ResponseHeaderTimeout(t *testing.T) {
	gone := make(chan struct{}, 1)
	up := startRaw(t, func(c net.Conn, br *bufio.Reader) {
		readRequestHead(br)
		io.Copy(io.Discard, br) // never answers; returns when the proxy gives up
		gone <- struct{}{}
	})
	p := startProxy(t, Options{ResponseHeaderTimeout: short})
	p.SetTable(table(rev(1, 100, up.addr())))
	c, br := dialProxy(t, p)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if got := readStatus(t, br); got != 504 {
		t.Errorf("status = %d, want 504", got)
	}
	<-gone
	checkSettled(t, p, RevisionStats{Requests: 1, Status5xx: 1, ProxyErrors: 1})
}

func TestProxy_UpstreamTimeout(t *testing.T) {
	up := startRaw(t, func(c net.Conn, br *bufio.Reader) {
		readRequestHead(br)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
		io.Copy(io.Discard, br) // then nothing more
	})
	p := startProxy(t, Options{UpstreamTimeout: short})
	p.SetTable(table(rev(1, 100, up.addr())))
	c, br := dialProxy(t, p)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err == nil || string(b) != "only ten b" {
		t.Errorf("body %q (err %v), want the ten bytes sent and the connection cut", b, err)
	}
	checkSettled(t, p, RevisionStats{Requests: 1, Status5xx: 1, ProxyErrors: 1})
}

func TestProxy_ClientWriteTimeout(t *testing.T) {
	gone := make(chan struct{}, 1)
	up := startRaw(t, func(c net.Conn, br *bufio.Reader) {
		readRequestHead(br)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
		chunk := "4000\r\n" + strings.Repeat("z", 0x4000) + "\r\n"
		for {
			if _, err := io.WriteString(c, chunk); err != nil {
				break // the proxy gave up on the client and closed this
			}
		}
		gone <- struct{}{}
	})
	p := startProxy(t, Options{ClientWriteTimeout: short})
	p.SetTable(table(rev(1, 100, up.addr())))
	c, _ := dialProxy(t, p)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") // and never read
	<-gone
	checkSettled(t, p, RevisionStats{Requests: 1, ClientClosed: 1})
}

func TestProxy_ClientGoneWhileWaiting(t *testing.T) {
	arrived := make(chan struct{}, 1)
	gone := make(chan struct{}, 1)
	up := startRaw(t, func(c net.Conn, br *bufio.Reader) {
		readRequestHead(br)
		arrived <- struct{}{}
		io.Copy(io.Discard, br) // thinks for ever; returns when the proxy gives up
		gone <- struct{}{}
	})
	p := startProxy(t, Options{})
	p.SetTable(table(rev(1, 100, up.addr())))
	c, _ := dialProxy(t, p)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	<-arrived
	c.Close()
	<-gone // the proxy noticed and cancelled the upstream exchange
	checkSettled(t, p, RevisionStats{Requests: 1, ClientClosed: 1})
}

func TestProxy_MaxConns(t *testing.T) {
	up := startUpstream(t, nameServer("x"))
	p := startProxy(t, Options{MaxConns: 2})
	p.SetTable(table(rev(1, 100, up)))

	// Two kept-alive connections at the cap: a third client takes the
	// place of one of them.
	var idle []*bufio.Reader
	for i := 0; i < 2; i++ {
		c, br := dialProxy(t, p)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if got := readStatus(t, br); got != 200 {
			t.Fatalf("status = %d, want 200", got)
		}
		idle = append(idle, br)
	}
	eventually(t, "both connections to be idle", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		n := 0
		for c := range p.conns {
			if c.keptAlive.Load() {
				n++
			}
		}
		return n == 2
	})
	c, br := dialProxy(t, p)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if got := readStatus(t, br); got != 200 {
		t.Errorf("third client: status %d, want 200 (an idle connection reclaimed)", got)
	}

	// Connections busy with a request head: the next one gets 503.
	var busy []net.Conn
	for len(busy) < 3 {
		c, _ := dialProxy(t, p)
		io.WriteString(c, "GET / HTTP/1.1\r\n") // head not finished
		busy = append(busy, c)
	}
	eventually(t, "a connection to be refused", func() bool { return rejectedFor(p, ReasonConnLimit) >= 1 })
	c, br = dialProxy(t, p)
	if got := readStatus(t, br); got != 503 {
		t.Errorf("client over the cap: status %d, want 503", got)
	}
}
