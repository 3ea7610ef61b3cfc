package proxy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// echoServer answers with the request body, once read in full (net/http
// servers do not read and write at once), streamed back chunked.
func echoServer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("X-Request-TE", strings.Join(r.TransferEncoding, ","))
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		w.Write(body)
	})
}

func TestProxy_ChunkedBodies(t *testing.T) {
	up := startUpstream(t, echoServer())
	p := startProxy(t, Options{})
	p.SetTable(table(rev(1, 100, up)))
	pr, pw := io.Pipe()
	go func() {
		for i := 0; i < 50; i++ {
			io.WriteString(pw, strings.Repeat("x", i)+"\n")
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", "http://"+p.Addr()+"/", pr) // unknown length: chunked
	resp, err := newClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := 0; i < 50; i++ {
		want.WriteString(strings.Repeat("x", i) + "\n")
	}
	if string(body) != want.String() {
		t.Errorf("echoed body = %d bytes, want %d", len(body), want.Len())
	}
	if got := resp.Header.Get("X-Request-TE"); got != "chunked" {
		t.Errorf("upstream saw Transfer-Encoding %q, want chunked", got)
	}
	if len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Errorf("response Transfer-Encoding = %v, want chunked", resp.TransferEncoding)
	}
}

func TestProxy_BigBodiesStream(t *testing.T) {
	up := startUpstream(t, echoServer())
	p := startProxy(t, Options{})
	p.SetTable(table(rev(1, 100, up)))
	data := make([]byte, 8<<20)
	for i := range data {
		data[i] = byte(rand.IntN(256))
	}
	for _, chunked := range []bool{false, true} {
		var body io.Reader = bytes.NewReader(data)
		if chunked {
			body = io.MultiReader(body) // hides the length
		}
		req, _ := http.NewRequest("PUT", "http://"+p.Addr()+"/", body)
		resp, err := newClient(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		n, err := io.Copy(h, resp.Body)
		resp.Body.Close()
		if err != nil || n != int64(len(data)) || !sameHash(h.Sum(nil), data) {
			t.Errorf("chunked=%v: echoed %d bytes (err %v), want %d identical bytes", chunked, n, err, len(data))
		}
	}
}

func sameHash(sum []byte, data []byte) bool {
	want := sha256.Sum256(data)
	return bytes.Equal(sum, want[:])
}

func TestProxy_ForwardedAndHopByHopHeaders(t *testing.T) {
	seen := make(chan http.Header, 1)
	up := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		h.Set("Host", r.Host)
		seen <- h
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("X-Private", "hop")
		w.Header().Set("Connection", "X-Private")
		w.Write([]byte("ok"))
	}))
	p := startProxy(t, Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	p.SetTable(table(rev(1, 100, up)))
	req, _ := http.NewRequest("GET", "http://"+p.Addr()+"/path?q=1", nil)
	req.Host = "app.example"
	req.Header.Set("X-Forwarded-For", "10.0.0.1")
	req.Header.Set("Connection", "X-Secret")
	req.Header.Set("X-Secret", "drop me")
	req.Header.Set("Proxy-Connection", "keep-alive")
	req.Header.Set("X-Keep", "kept")
	resp, err := newClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := <-seen
	for name, want := range map[string]string{
		"X-Forwarded-For":   "10.0.0.1, 127.0.0.1",
		"X-Forwarded-Proto": "http",
		"X-Secret":          "",
		"Proxy-Connection":  "",
		"X-Keep":            "kept",
		"Host":              "app.example",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("upstream saw %s = %q, want %q", name, got, want)
		}
	}
	for name, want := range map[string]string{"Keep-Alive": "", "X-Private": "", "Connection": ""} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("client saw %s = %q, want %q", name, got, want)
		}
	}
}

func TestProxy_WebSocketUpgrade(t *testing.T) {
	up := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" || r.Header.Get("Connection") != "Upgrade" {
			http.Error(w, "not an upgrade", 400)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		io.Copy(c, brw) // echo
	}))
	p := startProxy(t, Options{})
	p.SetTable(table(rev(1, 100, up)))
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(c)
	lines, err := readRequestHead(br) // a response head reads the same way
	if err != nil || len(lines) == 0 || !strings.HasPrefix(lines[0], "HTTP/1.1 101") {
		t.Fatalf("upgrade response %q (err %v), want 101", lines, err)
	}
	for _, msg := range []string{"hello", "world, again"} {
		io.WriteString(c, msg)
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(br, got); err != nil || string(got) != msg {
			t.Fatalf("echo %q: got %q (err %v)", msg, got, err)
		}
	}
	c.Close()
	eventually(t, "the tunnel to end", func() bool { return settledStats(t, p, 1).InFlight == 0 })
}

func TestProxy_BodylessResponses(t *testing.T) {
	up := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/204":
			w.WriteHeader(204)
		case "/304":
			w.WriteHeader(304)
		default:
			w.Header().Set("Content-Length", "5")
			w.Write([]byte("hello"))
		}
	}))
	p := startProxy(t, Options{})
	p.SetTable(table(rev(1, 100, up)))
	c := newClient(t)
	for _, tc := range []struct {
		method, path string
		want         int
	}{{"HEAD", "/", 200}, {"GET", "/204", 204}, {"GET", "/304", 304}, {"GET", "/", 200}, {"HEAD", "/", 200}} {
		req, _ := http.NewRequest(tc.method, "http://"+p.Addr()+tc.path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantBody := ""
		if tc.method == "GET" && tc.want == 200 {
			wantBody = "hello"
		}
		if resp.StatusCode != tc.want || string(b) != wantBody {
			t.Errorf("%s %s: got %d %q, want %d %q", tc.method, tc.path, resp.StatusCode, b, tc.want, wantBody)
		}
	}
}

func TestProxy_HTTP10Client(t *testing.T) {
	up := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("part one, "))
		w.(http.Flusher).Flush() // forces a chunked response
		w.Write([]byte("part two"))
	}))
	p := startProxy(t, Options{})
	p.SetTable(table(rev(1, 100, up)))
	got := rawExchange(t, p.Addr(), "GET / HTTP/1.0\r\n\r\n")
	head, body, _ := strings.Cut(got, "\r\n\r\n")
	if body != "part one, part two" || strings.Contains(strings.ToLower(head), "chunked") {
		t.Errorf("HTTP/1.0 client got head %q body %q, want the decoded body, close-delimited", head, body)
	}
}

func TestProxy_CloseDelimitedResponse(t *testing.T) {
	up := startRaw(t, func(c net.Conn, br *bufio.Reader) {
		readRequestHead(br)
		c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"))
	})
	p := startProxy(t, Options{})
	p.SetTable(table(rev(1, 100, up.addr())))
	got := rawExchange(t, p.Addr(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	head, body, _ := strings.Cut(got, "\r\n\r\n")
	if body != "until the end" || !strings.Contains(head, "Connection: close") {
		t.Errorf("got head %q body %q, want close-delimited body", head, body)
	}
}

func TestProxy_ExpectContinue(t *testing.T) {
	up := startUpstream(t, echoServer())
	p := startProxy(t, Options{})
	p.SetTable(table(rev(1, 100, up)))
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	br := bufio.NewReader(c)
	lines, err := readRequestHead(br)
	if err != nil || len(lines) == 0 || lines[0] != "HTTP/1.1 100 Continue" {
		t.Fatalf("got %q (err %v), want 100 Continue before sending the body", lines, err)
	}
	io.WriteString(c, "hello")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "hello" {
		t.Errorf("got %d %q, want 200 hello", resp.StatusCode, b)
	}
}

func TestProxy_ClientClosed(t *testing.T) {
	t.Run("while waiting for the response", func(t *testing.T) {
		arrived := make(chan struct{}, 1)
		release := make(chan struct{})
		up := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			<-release
			big := bytes.Repeat([]byte("z"), 1<<20)
			for i := 0; i < 16; i++ {
				if _, err := w.Write(big); err != nil {
					return
				}
			}
		}))
		p := startProxy(t, Options{})
		p.SetTable(table(rev(1, 100, up)))
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		<-arrived
		c.Close()
		close(release)
		s := settledStats(t, p, 1)
		if s.ClientClosed != 1 || s.Status5xx != 0 || s.ProxyErrors != 0 {
			t.Errorf("stats = %+v, want one client-closed request and no 5xx", s)
		}
	})
	t.Run("mid request body", func(t *testing.T) {
		var hits atomic.Int64
		up := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			io.Copy(io.Discard, r.Body)
		}))
		p := startProxy(t, Options{})
		p.SetTable(table(rev(1, 100, up)))
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nonly a little")
		eventually(t, "the request to reach the upstream", func() bool { return hits.Load() == 1 })
		c.Close()
		eventually(t, "the request to be counted", func() bool { return statsOf(p, 1).Requests == 1 })
		if s := statsOf(p, 1); s.ClientClosed != 1 || s.Status5xx != 0 {
			t.Errorf("stats = %+v, want one client-closed request and no 5xx", s)
		}
	})
}

func TestProxy_MalformedRequests(t *testing.T) {
	up := startUpstream(t, nameServer("x"))
	p := startProxy(t, Options{})
	p.SetTable(table(rev(1, 100, up)))
	for name, tc := range map[string]struct{ req, status string }{
		"no host":         {"GET / HTTP/1.1\r\n\r\n", "400"},
		"TE and CL":       {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},
		"two lengths":     {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "400"},
		"folded header":   {"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", "400"},
		"space in name":   {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", "400"},
		"HTTP/2 preface":  {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", "505"},
		"huge head":       {"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 9000) + "\r\n\r\n", "431"},
		"unknown coding":  {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", "501"},
		"bad chunk size":  {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "400"},
		"valid for check": {"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "200"},
	} {
		t.Run(name, func(t *testing.T) {
			got := rawExchange(t, p.Addr(), tc.req)
			if !strings.HasPrefix(got, "HTTP/1.1 "+tc.status+" ") {
				t.Errorf("got %q, want status %s", firstLine(got), tc.status)
			}
		})
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}
