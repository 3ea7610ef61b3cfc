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

// pathResponder answers each request with its target as the body, reading
// its body by its framing; before answering a target in hold, it waits for
// the value sent on that target's channel.
func pathResponder(hold map[string]chan struct{}) func(net.Conn, *bufio.Reader) {
	return func(c net.Conn, br *bufio.Reader) {
		for {
			head, err := readRequestHead(br)
			if err != nil || len(head) == 0 {
				return
			}
			target := strings.Fields(head[0])[1]
			r := received{head: head}
			if _, complete := readCapturedBody(br, r); !complete {
				return
			}
			if ch := hold[target]; ch != nil {
				<-ch
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+itoa(len(target))+"\r\n\r\n"+target)
		}
	}
}

// readBodies reads n responses and returns their bodies.
func readBodies(t *testing.T, br *bufio.Reader, n int) []string {
	t.Helper()
	var bodies []string
	for range n {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d of %d: %v (got %q)", len(bodies)+1, n, err, bodies)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		bodies = append(bodies, string(b))
	}
	return bodies
}

// Pipelined requests are answered in order, whether they arrive together
// (with bodies, chunked, or none: some are served inside the client
// socket's poller round, some outside it) or while the one before is still
// being served, when the poller has already seen them arrive: the proxy
// must not wait for another event before reading them.
func TestProxy_PipelinedRequests(t *testing.T) {
	release := make(chan struct{})
	up := startRaw(t, pathResponder(map[string]chan struct{}{"/held": release}))
	p := startProxy(t, Options{IdleTimeout: time.Minute})
	p.SetTable(table(rev(1, 100, up.addr())))

	t.Run("in one write", func(t *testing.T) {
		c, br := dialProxy(t, p)
		io.WriteString(c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"+
			"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"+
			"GET /c HTTP/1.1\r\nHost: x\r\n\r\n"+
			"POST /d HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"+
			"GET /e HTTP/1.1\r\nHost: x\r\n\r\n")
		got := strings.Join(readBodies(t, br, 5), " ")
		if got != "/a /b /c /d /e" {
			t.Errorf("bodies %q, want /a /b /c /d /e", got)
		}
	})
	t.Run("the next one arrives while the first is served", func(t *testing.T) {
		c, br := dialProxy(t, p)
		io.WriteString(c, "GET /held HTTP/1.1\r\nHost: x\r\n\r\n")
		eventually(t, "the first request to reach the upstream", func() bool {
			return statsOf(p, 1).InFlight == 1
		})
		io.WriteString(c, "GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
		// Give the proxy's poller time to see the second request arrive
		// while the first is in flight (the case to cover), then answer.
		time.Sleep(50 * time.Millisecond)
		close(release)
		got := strings.Join(readBodies(t, br, 2), " ")
		if got != "/held /next" {
			t.Errorf("bodies %q, want /held /next", got)
		}
	})
	t.Run("a request after a wait between requests", func(t *testing.T) {
		c, br := dialProxy(t, p)
		for _, path := range []string{"/1", "/2", "/3"} {
			io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
			if got := readBodies(t, br, 1)[0]; got != path {
				t.Errorf("body %q, want %q", got, path)
			}
			time.Sleep(10 * time.Millisecond) // the proxy waits between requests
		}
	})
}
