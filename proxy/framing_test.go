package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// received is what a capturing upstream read of one request.
type received struct {
	head     []string // request line and header lines, without line endings
	body     string   // the body bytes as framed on the wire
	complete bool     // the whole message arrived (else the proxy cut it)
}

func (r received) header(name string) []string {
	var vals []string
	for _, l := range r.head[1:] {
		if n, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(n, name) {
			vals = append(vals, strings.TrimSpace(v))
		}
	}
	return vals
}

// startCapture starts an upstream that reads each request by the framing
// the proxy sent (Content-Length or chunked, which the proxy always writes
// canonically), reports it on the returned channel and answers 200 "ok".
func startCapture(t testing.TB) (string, <-chan received) {
	t.Helper()
	got := make(chan received, 64)
	u := startRaw(t, func(c net.Conn, br *bufio.Reader) {
		for {
			head, err := readRequestHead(br)
			if err != nil || len(head) == 0 {
				return
			}
			r := received{head: head}
			r.body, r.complete = readCapturedBody(br, r)
			got <- r
			if !r.complete {
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	return u.addr(), got
}

func readCapturedBody(br *bufio.Reader, r received) (string, bool) {
	if te := r.header("Transfer-Encoding"); len(te) > 0 {
		var b strings.Builder
		for !strings.HasSuffix(b.String(), "0\r\n\r\n") {
			c, err := br.ReadByte()
			if err != nil {
				return b.String(), false
			}
			b.WriteByte(c)
		}
		return b.String(), true
	}
	n := 0
	if cl := r.header("Content-Length"); len(cl) > 0 {
		n, _ = strconv.Atoi(cl[0])
	}
	buf := make([]byte, n)
	k, err := io.ReadFull(br, buf)
	return string(buf[:k]), err == nil
}

// sendRaw writes req on a new connection and reads one response.
func sendRaw(t testing.TB, addr, req string) (int, string) {
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
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// upstreamGets says what the upstream must receive for one malformed input.
type upstreamGets int

const (
	getsNothing    upstreamGets = iota // refused before anything was sent upstream
	getsIncomplete                     // the head went up, the body was cut off
	getsCanonical                      // forwarded, in canonical form
)

const chunkedHead = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"

func TestProxy_RequestFraming(t *testing.T) {
	for _, tc := range []struct {
		name   string
		req    string
		status int
		gets   upstreamGets
		reason Reason
		// For getsCanonical: the request line, header lines that must be
		// there, header names that must not, and the framed body.
		line    string
		headers []string
		absent  []string
		body    string
	}{
		// RFC 9112 §7.1: chunked bodies are parsed strictly and re-framed.
		{name: "chunk extensions dropped", req: chunkedHead + "3;a=b;q=\"x \\\" y\" ; c\r\nabc\r\n0;z\r\n\r\n",
			status: 200, gets: getsCanonical, headers: []string{"Transfer-Encoding: chunked"}, body: "3\r\nabc\r\n0\r\n\r\n"},
		{name: "chunk size canonical", req: chunkedHead + "000A\r\n0123456789\r\n00\r\n\r\n",
			status: 200, gets: getsCanonical, body: "a\r\n0123456789\r\n0\r\n\r\n"},
		{name: "trailers checked and dropped", req: chunkedHead + "3\r\nabc\r\n0\r\nX-T: 1\r\nX-U: \"v\"\r\n\r\n",
			status: 200, gets: getsCanonical, body: "3\r\nabc\r\n0\r\n\r\n"},
		{name: "chunk line bare LF", req: chunkedHead + "3\nabc\r\n0\r\n\r\n", status: 400, gets: getsIncomplete, reason: ReasonChunk},
		{name: "chunk data bare LF", req: chunkedHead + "3\r\nabc\n0\r\n\r\n", status: 400, gets: getsIncomplete, reason: ReasonChunk},
		{name: "chunk size junk", req: chunkedHead + "3 zzz\r\nabc\r\n0\r\n\r\n", status: 400, gets: getsIncomplete, reason: ReasonChunk},
		{name: "chunk size not hex", req: chunkedHead + "0x3\r\nabc\r\n0\r\n\r\n", status: 400, gets: getsIncomplete, reason: ReasonChunk},
		{name: "chunk size negative", req: chunkedHead + "-3\r\nabc\r\n0\r\n\r\n", status: 400, gets: getsIncomplete, reason: ReasonChunk},
		{name: "chunk size too long", req: chunkedHead + "0000000000000003\r\nabc\r\n0\r\n\r\n", status: 400, gets: getsIncomplete, reason: ReasonChunk},
		{name: "chunk extension without name", req: chunkedHead + "3;=x\r\nabc\r\n0\r\n\r\n", status: 400, gets: getsIncomplete, reason: ReasonChunk},
		{name: "chunk extension bad value", req: chunkedHead + "3;a=\"x\r\nabc\r\n0\r\n\r\n", status: 400, gets: getsIncomplete, reason: ReasonChunk},
		{name: "chunk extension too long", req: chunkedHead + "3;a=" + strings.Repeat("x", 5000) + "\r\nabc\r\n0\r\n\r\n", status: 400, gets: getsIncomplete, reason: ReasonChunk},
		{name: "chunk line bare CR", req: chunkedHead + "3\rX\r\nabc\r\n0\r\n\r\n", status: 400, gets: getsIncomplete, reason: ReasonChunk},
		{name: "trailer with NUL", req: chunkedHead + "3\r\nabc\r\n0\r\nX-T: a\x00b\r\n\r\n", status: 400, gets: getsIncomplete, reason: ReasonChunk},
		{name: "trailer not a field", req: chunkedHead + "3\r\nabc\r\n0\r\nGET /smuggled HTTP/1.1\r\n\r\n", status: 400, gets: getsIncomplete, reason: ReasonChunk},
		{name: "trailer bare LF", req: chunkedHead + "3\r\nabc\r\n0\r\nX-T: 1\n\r\n", status: 400, gets: getsIncomplete, reason: ReasonChunk},
		{name: "smuggled request after chunk", req: chunkedHead + "3\r\nabc\r\n0\n\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n", status: 400, gets: getsIncomplete, reason: ReasonChunk},

		// RFC 9112 §6: exactly one framing, forwarded canonically.
		{name: "equal lengths merged", req: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 0003\r\n\r\nabc",
			status: 200, gets: getsCanonical, headers: []string{"Content-Length: 3"}, body: "abc"},
		{name: "chunked in any case", req: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:  Chunked \r\n\r\n1\r\na\r\n0\r\n\r\n",
			status: 200, gets: getsCanonical, headers: []string{"Transfer-Encoding: chunked"}, body: "1\r\na\r\n0\r\n\r\n"},
		{name: "differing lengths", req: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", status: 400, reason: ReasonFraming},
		{name: "length list", req: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc", status: 400, reason: ReasonFraming},
		{name: "length signed", req: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc", status: 400, reason: ReasonFraming},
		{name: "length and chunked", req: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400, reason: ReasonFraming},
		{name: "identity then chunked", req: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 501, reason: ReasonCoding},
		{name: "chunked twice", req: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400, reason: ReasonFraming},
		{name: "chunked then gzip", req: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", status: 501, reason: ReasonCoding},
		{name: "empty coding", req: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \r\n\r\n", status: 400, reason: ReasonFraming},
		{name: "chunked in HTTP/1.0", req: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400, reason: ReasonFraming},
		{name: "length with whitespace inside", req: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\nabcdefghijkl", status: 400, reason: ReasonFraming},

		// RFC 9112 §5, RFC 9110 §5.5: header fields.
		{name: "bare CR in value", req: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rTransfer-Encoding: chunked\r\n\r\n", status: 400, reason: ReasonHeader},
		{name: "NUL in value", req: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", status: 400, reason: ReasonHeader},
		{name: "control char in value", req: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x1bb\r\n\r\n", status: 400, reason: ReasonHeader},
		{name: "DEL in value", req: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\n", status: 400, reason: ReasonHeader},
		{name: "space before colon", req: "GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 3\r\n\r\nabc", status: 400, reason: ReasonHeader},
		{name: "name not a token", req: "GET / HTTP/1.1\r\nHost: x\r\nX(A): b\r\n\r\n", status: 400, reason: ReasonHeader},
		{name: "empty name", req: "GET / HTTP/1.1\r\nHost: x\r\n: b\r\n\r\n", status: 400, reason: ReasonHeader},
		{name: "no colon", req: "GET / HTTP/1.1\r\nHost: x\r\nX-A b\r\n\r\n", status: 400, reason: ReasonHeader},
		{name: "folded line", req: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", status: 400, reason: ReasonHeader},
		{name: "bare LF line endings", req: "GET /lf HTTP/1.1\nHost: x\nX-A: b\n\n", status: 200, gets: getsCanonical,
			line: "GET /lf HTTP/1.1", headers: []string{"X-A: b", "Host: x"}},

		// RFC 9112 §3: the request line and target.
		{name: "control char in target", req: "GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n", status: 400, reason: ReasonTarget},
		{name: "DEL in target", req: "GET /a\x7fb HTTP/1.1\r\nHost: x\r\n\r\n", status: 400, reason: ReasonTarget},
		{name: "bad percent escape", req: "GET /a%0Xb HTTP/1.1\r\nHost: x\r\n\r\n", status: 400, reason: ReasonTarget},
		{name: "cut percent escape", req: "GET /a% HTTP/1.1\r\nHost: x\r\n\r\n", status: 400, reason: ReasonTarget},
		{name: "tab in target", req: "GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n", status: 400, reason: ReasonTarget},
		{name: "two spaces", req: "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", status: 400, reason: ReasonTarget},
		{name: "method not a token", req: "G@T / HTTP/1.1\r\nHost: x\r\n\r\n", status: 400, reason: ReasonRequestLine},
		{name: "bare CR in request line", req: "GET / HTTP/1.1\r\r\nHost: x\r\n\r\n", status: 400, reason: ReasonRequestLine},
		{name: "relative target", req: "GET a/b HTTP/1.1\r\nHost: x\r\n\r\n", status: 400, reason: ReasonTarget},
		{name: "asterisk for OPTIONS", req: "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", status: 200, gets: getsCanonical, line: "OPTIONS * HTTP/1.1"},
		{name: "asterisk for GET", req: "GET * HTTP/1.1\r\nHost: x\r\n\r\n", status: 400, reason: ReasonTarget},
		{name: "CONNECT", req: "CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n", status: 405, reason: ReasonMethod},
		{name: "HTTP/2.0", req: "GET / HTTP/2.0\r\nHost: x\r\n\r\n", status: 505, reason: ReasonVersion},
		{name: "lower-case version", req: "GET / http/1.1\r\nHost: x\r\n\r\n", status: 400, reason: ReasonRequestLine},

		// RFC 9112 §3.2.2 and §3.2: absolute form and Host.
		{name: "absolute form", req: "GET http://good.example/admin?x=1 HTTP/1.1\r\nHost: evil.example\r\n\r\n",
			status: 200, gets: getsCanonical, line: "GET /admin?x=1 HTTP/1.1", headers: []string{"Host: good.example"}},
		{name: "absolute form without path", req: "GET HTTP://good.example:8080?q HTTP/1.1\r\nHost: good.example\r\n\r\n",
			status: 200, gets: getsCanonical, line: "GET /?q HTTP/1.1", headers: []string{"Host: good.example:8080"}},
		{name: "absolute form with userinfo", req: "GET http://u:p@good.example/ HTTP/1.1\r\nHost: good.example\r\n\r\n", status: 400, reason: ReasonTarget},
		{name: "absolute form other scheme", req: "GET ftp://good.example/ HTTP/1.1\r\nHost: good.example\r\n\r\n", status: 400, reason: ReasonTarget},
		{name: "absolute form percent-encoded host", req: "GET http://good%2eexample/ HTTP/1.1\r\nHost: good.example\r\n\r\n", status: 400, reason: ReasonTarget},
		{name: "host percent-encoded", req: "GET / HTTP/1.1\r\nHost: good%2eexample\r\n\r\n", status: 400, reason: ReasonHost},
		{name: "absolute form empty authority", req: "GET http:///x HTTP/1.1\r\nHost: good.example\r\n\r\n", status: 400, reason: ReasonTarget},
		{name: "no host", req: "GET / HTTP/1.1\r\n\r\n", status: 400, reason: ReasonHost},
		{name: "two hosts", req: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", status: 400, reason: ReasonHost},
		{name: "host with path", req: "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", status: 400, reason: ReasonHost},
		{name: "host with userinfo", req: "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", status: 400, reason: ReasonHost},
		{name: "host with space", req: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", status: 400, reason: ReasonHost},
		{name: "host with bad port", req: "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", status: 400, reason: ReasonHost},
		{name: "host IPv6", req: "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", status: 200, gets: getsCanonical, headers: []string{"Host: [::1]:8080"}},

		// Hop-by-hop and forwarded headers.
		{name: "many connection names", req: "GET / HTTP/1.1\r\nHost: x\r\nConnection: " + connNames(20) + "\r\n" + connHeaders(20) + "X-Keep: 1\r\n\r\n",
			status: 200, gets: getsCanonical, headers: []string{"X-Keep: 1"}, absent: connNameList(20)},
		{name: "forwarded headers from an untrusted client", req: "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Host: evil\r\nForwarded: for=1.2.3.4\r\nX-Real-IP: 1.2.3.4\r\n\r\n",
			status: 200, gets: getsCanonical, headers: []string{"X-Forwarded-Proto: http", "X-Forwarded-For: 127.0.0.1"}, absent: []string{"X-Forwarded-Host", "Forwarded", "X-Real-IP"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up, got := startCapture(t)
			p := startProxy(t, Options{})
			p.SetTable(table(rev(1, 100, up)))
			status, _ := sendRaw(t, p.Addr(), tc.req)
			if status != tc.status {
				t.Fatalf("status = %d, want %d", status, tc.status)
			}
			s := settledStats(t, p, 1)
			switch tc.gets {
			case getsNothing:
				if s.Requests != 0 {
					t.Errorf("the request reached revision 1: %+v", s)
				}
			case getsIncomplete:
				r := <-got
				if r.complete {
					t.Errorf("upstream got a complete request %q %q; want it cut off", r.head, r.body)
				}
			case getsCanonical:
				r := <-got
				checkCanonical(t, r, tc.line, tc.headers, tc.absent, tc.body)
			}
			if tc.reason != reasonNone {
				if n := rejectedFor(p, tc.reason); n != 1 {
					t.Errorf("rejections for %s = %d, want 1", tc.reason, n)
				}
				if s.Requests != 0 || s.Status4xx != 0 || s.Status5xx != 0 {
					t.Errorf("a refused request reached revision 1's stats: %+v", s)
				}
			}
		})
	}
}

// checkCanonical checks one forwarded request: its line, the header lines it
// must have, the names it must not, exactly one framing header at most, one
// Host, and the framed body.
func checkCanonical(t *testing.T, r received, line string, headers, absent []string, body string) {
	t.Helper()
	if !r.complete {
		t.Fatalf("upstream got an incomplete request %q", r.head)
	}
	if line != "" && r.head[0] != line {
		t.Errorf("request line = %q, want %q", r.head[0], line)
	}
	for _, h := range headers {
		name, val, _ := strings.Cut(h, ": ")
		if got := r.header(name); len(got) != 1 || got[0] != val {
			t.Errorf("upstream got %s = %q, want exactly %q", name, got, val)
		}
	}
	for _, name := range absent {
		if got := r.header(name); len(got) != 0 {
			t.Errorf("upstream got %s = %q, want none", name, got)
		}
	}
	if n := len(r.header("Content-Length")) + len(r.header("Transfer-Encoding")); n > 1 {
		t.Errorf("upstream got %d framing headers in %q, want at most one", n, r.head)
	}
	if n := len(r.header("Host")); n != 1 {
		t.Errorf("upstream got %d Host headers in %q, want one", n, r.head)
	}
	if r.body != body {
		t.Errorf("upstream body = %q, want %q", r.body, body)
	}
}

func connNameList(n int) []string {
	var names []string
	for i := 0; i < n; i++ {
		names = append(names, "X-Hop-"+itoa(i))
	}
	return names
}

func connNames(n int) string { return strings.Join(connNameList(n), ", ") }

func connHeaders(n int) string {
	var b strings.Builder
	for _, name := range connNameList(n) {
		b.WriteString(name + ": secret\r\n")
	}
	return b.String()
}

func rejectedFor(p *Proxy, reason Reason) uint64 {
	for _, r := range p.Rejections() {
		if r.Reason == reason {
			return r.Count
		}
	}
	return 0
}

func TestProxy_ResponseFraming(t *testing.T) {
	for _, tc := range []struct {
		name, resp string
		status     int
		body       string
	}{
		{"CR in a header value", "HTTP/1.1 200 OK\r\nX-A: a\rSet-Cookie: evil=1\r\nContent-Length: 2\r\n\r\nok", 502, ""},
		{"NUL in a header value", "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nok", 502, ""},
		{"control char in the reason", "HTTP/1.1 200 O\x01K\r\nContent-Length: 2\r\n\r\nok", 502, ""},
		{"name not a token", "HTTP/1.1 200 OK\r\nX A: b\r\nContent-Length: 2\r\n\r\nok", 502, ""},
		{"length and chunked", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 502, ""},
		{"differing lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", 502, ""},
		{"unknown coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 502, ""},
		{"equal lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 02\r\n\r\nok", 200, "ok"},
		{"chunked re-framed", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n02;x=y\r\nok\r\n0\r\nX-T: 1\r\n\r\n", 200, "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := startRaw(t, func(c net.Conn, br *bufio.Reader) {
				readRequestHead(br)
				io.WriteString(c, tc.resp)
			})
			p := startProxy(t, Options{})
			p.SetTable(table(rev(1, 100, up.addr())))
			status, body := sendRaw(t, p.Addr(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			if status != tc.status || tc.status == 200 && body != tc.body {
				t.Errorf("got %d %q, want %d %q", status, body, tc.status, tc.body)
			}
		})
	}
}
