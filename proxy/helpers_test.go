package proxy

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// startProxy starts a proxy on a free port, shut down when the test ends.
func startProxy(t testing.TB, opts Options) *Proxy {
	t.Helper()
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	p, err := Listen(opts)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return p
}

// startUpstream starts a net/http server on a free port and returns its address.
func startUpstream(t testing.TB, h http.Handler) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.Listener.Addr().String()
}

// nameServer answers every request with its name as the body.
func nameServer(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, name)
	})
}

// refusedAddr returns an address on which nothing listens.
func refusedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// newClient returns an HTTP client with its own keep-alive pool, closed when
// the test ends.
func newClient(t testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// get fetches url and returns status, body and the response.
func get(t testing.TB, c *http.Client, url string) (int, string, *http.Response) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body of %s: %v", url, err)
	}
	return resp.StatusCode, string(b), resp
}

// table builds a table from routes.
func table(routes ...Route) Table { return Table{Revisions: routes} }

// rev builds a route of revision n with weight and endpoints at addrs.
func rev(n, weight int, addrs ...string) Route {
	r := Route{Revision: n, Version: "v" + itoa(n), Weight: weight}
	for i, a := range addrs {
		r.Endpoints = append(r.Endpoints, Endpoint{ID: "i" + itoa(i), Addr: a})
	}
	return r
}

// statsOf returns the stats of revision rev.
func statsOf(p *Proxy, rev int) RevisionStats {
	for _, s := range p.Stats() {
		if s.Revision == rev {
			return s
		}
	}
	return RevisionStats{Revision: rev}
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rawUpstream is a minimal HTTP/1.1 server on a raw listener whose
// per-connection behaviour the test chooses.
type rawUpstream struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

// startRaw serves each accepted connection with serve, in its own goroutine.
func startRaw(t testing.TB, serve func(c net.Conn, br *bufio.Reader)) *rawUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &rawUpstream{ln: ln}
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u.mu.Lock()
			u.conns = append(u.conns, c)
			u.mu.Unlock()
			u.wg.Add(1)
			go func() {
				defer u.wg.Done()
				defer c.Close()
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		u.mu.Lock()
		for _, c := range u.conns {
			c.Close()
		}
		u.mu.Unlock()
		u.wg.Wait()
	})
	return u
}

func (u *rawUpstream) addr() string { return u.ln.Addr().String() }

// readRequestHead reads one request head and returns its lines.
func readRequestHead(br *bufio.Reader) ([]string, error) {
	var lines []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return lines, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return lines, nil
		}
		lines = append(lines, line)
	}
}

// fixedResponder answers every request on the connection with body.
func fixedResponder(body string) func(net.Conn, *bufio.Reader) {
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
		itoa(len(body)) + "\r\n\r\n" + body)
	return func(c net.Conn, br *bufio.Reader) {
		for {
			if err := skipHead(br); err != nil {
				return
			}
			if _, err := c.Write(resp); err != nil {
				return
			}
		}
	}
}

// skipHead reads a request head without allocating.
func skipHead(br *bufio.Reader) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 && (len(line) == 1 || line[0] == '\r') {
			return nil
		}
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// rawExchange writes req on a new connection to addr and returns everything
// read until the proxy closes the connection.
func rawExchange(t testing.TB, addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read from proxy: %v (got %q)", err, b)
	}
	return string(b)
}

// settledStats returns the stats of revision rev once no request is in
// flight in the proxy (a response reaches the client just before its
// request is recorded).
func settledStats(t testing.TB, p *Proxy, rev int) RevisionStats {
	t.Helper()
	eventually(t, "requests to settle", func() bool {
		for _, s := range p.Stats() {
			if s.InFlight != 0 {
				return false
			}
		}
		return true
	})
	return statsOf(p, rev)
}
