package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// FuzzRequestParser compares the proxy's request parser with net/http's
// server, a strict and widely used reference, on the first request of each
// input:
//
//   - the proxy forwards it and net/http accepts it: what the proxy sends
//     upstream means the same request (method, target, Host, end-to-end
//     headers, body bytes) to net/http;
//   - the proxy forwards it and net/http refuses it: what the proxy sends
//     upstream is accepted by net/http (the proxy repaired the framing, as
//     with "Content-Length: 3" next to "Content-Length: 0003");
//   - the proxy refuses it: always allowed (the proxy is stricter than
//     net/http in documented places: chunk extensions and trailers,
//     folded lines, CONNECT, "*" outside OPTIONS, userinfo and non-HTTP
//     schemes in absolute targets, HTTP/1.2).
//
// Inputs whose first request is incomplete are skipped. The seed corpus is
// in testdata/fuzz/FuzzRequestParser; CI runs a short fuzz session.
func FuzzRequestParser(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		fwd, verdict := forwardOnce(in)
		if verdict == parseIncomplete || verdict == parseRefused {
			return
		}
		orig, origOK := referenceParse(t, in)
		got, gotOK := referenceParse(t, fwd)
		if !gotOK {
			t.Fatalf("net/http refuses what the proxy forwards:\ninput %q\nforwarded %q", in, fwd)
		}
		if !origOK {
			return // repaired: forwarded canonically
		}
		if d := orig.differsFrom(got); d != "" {
			t.Fatalf("forwarded request differs from the input (%s):\ninput %q\nforwarded %q\nnet/http saw %+v\nthen %+v", d, in, fwd, orig, got)
		}
	})
}

type parseVerdict int

const (
	parseForwarded  parseVerdict = iota
	parseRefused                 // the proxy answers an error
	parseIncomplete              // the input ends before the first request does
)

// forwardOnce runs the proxy's request path on in without sockets: it reads
// the first request head, parses it, and writes what would be sent upstream.
func forwardOnce(in []byte) ([]byte, parseVerdict) {
	br := bufio.NewReaderSize(bytes.NewReader(in), clientReadBuf)
	head, err := readHead(br)
	switch {
	case err == errHeadTooLarge || err == errMalformed:
		return nil, parseRefused
	case err != nil:
		return nil, parseIncomplete
	}
	var req request
	if req.parse(head, "", "") != reasonNone {
		return nil, parseRefused
	}
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	req.writeHead(w, forwarded{ip: []byte("192.0.2.1"), proto: "http"}, "upstream.invalid")
	br.Discard(len(head))
	switch {
	case req.body.chunked:
		err = copyChunked(w, br, false)
	case req.body.contentLength > 0:
		err = copyLength(w, br, req.body.contentLength)
	}
	if errors.Is(err, errChunk) {
		return nil, parseRefused
	}
	if err != nil {
		return nil, parseIncomplete
	}
	w.Flush()
	return out.Bytes(), parseForwarded
}

// seen is a request as net/http's server handed it to a handler.
type seen struct {
	Method, RequestURI, Host string
	Header                   http.Header
	ContentLength            int64
	Body                     string
}

// differsFrom names the first difference between the request a client
// sent (s) and the one the proxy forwarded (f), or "".
func (s seen) differsFrom(f seen) string {
	switch {
	case s.Method != f.Method:
		return "method"
	case s.Host != "" && !strings.EqualFold(s.Host, f.Host):
		return "host"
	case s.Body != f.Body:
		return "body"
	case s.ContentLength != f.ContentLength && !(s.ContentLength <= 0 && f.ContentLength <= 0 && s.Body == ""):
		return "content length"
	case !reflect.DeepEqual(endToEnd(s.Header), endToEnd(f.Header)):
		return "headers"
	}
	want := s.RequestURI
	if !strings.HasPrefix(want, "/") && want != "*" { // absolute form: the path part
		rest := want[strings.Index(want, "://")+3:]
		if i := strings.IndexAny(rest, "/?#"); i >= 0 && rest[i] != '#' {
			want = rest[i:]
		} else {
			want = "/"
		}
		if strings.HasPrefix(want, "?") {
			want = "/" + want
		}
	}
	if want != f.RequestURI {
		return "target"
	}
	return ""
}

// endToEnd returns h without the headers a proxy replaces or removes.
func endToEnd(h http.Header) http.Header {
	out := http.Header{}
	drop := map[string]bool{}
	for _, v := range h.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			drop[textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name))] = true
		}
	}
	for k, v := range h {
		switch k {
		case "Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
			"Expect", "Proxy-Authorization", "Host", "Content-Length", "X-Forwarded-For", "X-Forwarded-Proto",
			"X-Forwarded-Host", "Forwarded", "X-Real-Ip":
			continue
		}
		if drop[k] {
			continue
		}
		out[k] = v
	}
	return out
}

var reference struct {
	once sync.Once
	addr string
	seen chan seen
}

// referenceParse sends in to a net/http server on loopback (one per fuzzing
// process) and returns the first request its handler saw, with its whole
// body, or false when the server refused it.
func referenceParse(t *testing.T, in []byte) (seen, bool) {
	reference.once.Do(startReference)
	c, err := net.Dial("tcp", reference.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write(in)
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, c)
	var first *seen
	for {
		select {
		case s := <-reference.seen:
			if first == nil {
				first = &s
			}
			continue
		default:
		}
		break
	}
	if first == nil || first.Method == "" {
		return seen{}, false
	}
	return *first, true
}

func startReference() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	reference.addr = ln.Addr().String()
	reference.seen = make(chan seen, 64)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		s := seen{}
		if err == nil { // a body net/http cannot read is a refusal
			s = seen{Method: r.Method, RequestURI: r.RequestURI, Host: r.Host, Header: r.Header,
				ContentLength: r.ContentLength, Body: string(body)}
		}
		select {
		case reference.seen <- s:
		default:
		}
	}), DisableGeneralOptionsHandler: true}
	go srv.Serve(ln)
}

// fuzzSeeds are inputs around every rule the parser enforces; more are in
// testdata/fuzz/FuzzRequestParser.
var fuzzSeeds = []string{
	"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /a?b=c HTTP/1.0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
	"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 0003\r\n\r\nabc",
	"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
	"GET http://good.example/admin HTTP/1.1\r\nHost: evil.example\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rTransfer-Encoding: chunked\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nConnection: x-a, x-b\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\n\r\n",
	"GET / HTTP/1.1\nHost: x\n\n",
	"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
}
