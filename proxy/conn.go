package proxy

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const (
	clientReadBuf  = 8 << 10 // also the largest request head accepted
	clientWriteBuf = 8 << 10
	maxTries       = 16 // endpoints tried for one request before giving up
)

var (
	clientReaders sync.Pool
	clientWriters sync.Pool
)

// clientConn serves the requests of one client connection, one at a time,
// on its own goroutine.
type clientConn struct {
	p       *Proxy
	conn    net.Conn
	rio     *rawIO
	tls     *tls.Conn     // the TLS session over conn; nil on a plain listener
	rw      io.ReadWriter // tls, or rio
	br      *bufio.Reader
	bw      *bufio.Writer
	fwd     forwarded // what the upstream is told about the client
	started time.Time

	idle      atomic.Bool   // waiting for a request head (Shutdown may close it)
	fresh     atomic.Bool   // no request head received yet (Shutdown waits for its first)
	keptAlive atomic.Bool   // idle between requests with nothing received (may be reclaimed)
	heads     atomic.Uint32 // request heads received (Shutdown sees a connection stay idle)
	linger    bool          // an error was answered with input maybe unread
	user      uint64        // hash of the client's address as a user (users.go); 0: not yet

	// serveRounds' state: the first head is still awaited; the round's
	// callback and how it ended; the deadline of a head arriving in
	// pieces; when a request forwarded outside the round began.
	first    bool
	roundFn  func(fd uintptr) bool
	roundEnd int
	headBy   time.Time
	reqStart time.Time

	// ev is the connection's state while an event loop serves it.
	ev evConn

	// Per-request scratch space, reused so the request path does not allocate.
	req   request
	resp  response
	tried [maxTries]*endpoint
}

func newClientConn(p *Proxy, c net.Conn) *clientConn {
	cc := &clientConn{p: p, conn: c, rio: newRawIO(c)}
	cc.rw = cc.rio
	if p.tlsConfig != nil {
		cc.tls = tls.Server(&rioConn{Conn: c, rio: cc.rio}, p.tlsConfig)
		cc.rw = cc.tls
	}
	cc.init(c.RemoteAddr())
	return cc
}

// init prepares a new connection from addr, read and written through c.rw.
func (c *clientConn) init(addr net.Addr) {
	c.started, c.first = time.Now(), true
	c.roundFn = c.round
	c.rio.writeTimeout = c.p.opts.ClientWriteTimeout
	if v := clientReaders.Get(); v != nil {
		c.br = v.(*bufio.Reader)
		c.br.Reset(c.rw)
	} else {
		c.br = bufio.NewReaderSize(c.rw, clientReadBuf)
	}
	if v := clientWriters.Get(); v != nil {
		c.bw = v.(*bufio.Writer)
		c.bw.Reset(c.rw)
	} else {
		c.bw = bufio.NewWriterSize(c.rw, clientWriteBuf)
	}
	c.fwd = c.p.forwardedFor(addr)
	c.idle.Store(true)
	c.fresh.Store(true)
}

func (c *clientConn) close() {
	if c.linger && c.tls == nil {
		lingerClose(c.conn)
	}
	if c.tls != nil {
		c.tls.Close() // sends close_notify
	}
	c.conn.Close()
	c.release()
}

// release returns the connection's buffers and forgets it.
func (c *clientConn) release() {
	c.br.Reset(nil)
	c.bw.Reset(nil)
	clientReaders.Put(c.br)
	clientWriters.Put(c.bw)
	c.rio.pending = nil
	c.p.forget(c)
}

// kill closes the connection from outside its goroutine or event loop
// (Shutdown, reclaiming idle connections): what it was doing fails.
func (c *clientConn) kill() {
	if l := c.ev.loop.Load(); l != nil {
		l.kill(c)
		return
	}
	if c.conn != nil {
		c.conn.Close()
	}
}

// serve reads requests and forwards them until the connection ends.
func (c *clientConn) serve() {
	defer c.close()
	if c.tls == nil && c.rio.raw != nil {
		c.serveRounds()
		return
	}
	for first := true; ; first = false {
		// Shutting down, a kept-alive connection still waits for its next
		// request: its client was told nothing (the response under way when
		// Shutdown began said keep-alive), so the request it may be sending
		// now is served, with Connection: close. Shutdown closes the
		// connection when idle (HandOver: once it stays idle for idleGrace).
		c.idle.Store(true)
		head, err := c.nextHead(first)
		if !c.headRead(err) {
			return
		}
		start := time.Now()
		if !c.parse(head) || !c.forward(start) {
			return
		}
	}
}

// headRead records that the wait for a request head ended, with err, and
// answers a head that cannot be served. It reports whether there is a
// head to serve.
func (c *clientConn) headRead(err error) bool {
	c.idle.Store(false)
	c.fresh.Store(false)
	c.heads.Add(1)
	switch {
	case err == nil:
		return true
	case err == errHeadTooLarge:
		c.reject(ReasonHeadTooLarge)
	case err == errMalformed:
		c.reject(ReasonRequestLine)
	case errors.Is(err, os.ErrDeadlineExceeded) && c.br.Buffered() > 0:
		c.reject(ReasonHeadTimeout)
	}
	return false // EOF, idle timeout, or reset: the client is gone
}

// parse parses head into c.req, answering a request it refuses.
func (c *clientConn) parse(head []byte) bool {
	if reason := c.req.parse(head, c.p.opts.StickyCookie, c.p.routing.Load().userCookie); reason != reasonNone {
		c.reject(reason)
		return false
	}
	return true
}

// serveRounds is serve for a plain connection with a file descriptor. It
// reads heads and forwards bodiless requests inside one RawConn.Read round
// of the client socket, which resets the poller's readiness only when it
// begins: between requests it waits for the socket without trying a read
// first (a read that fails with EAGAIN, as net.Conn.Read and a new round
// must make, since a request that arrived before the reset would raise no
// new event). That wait is safe only when no byte can have arrived unseen:
// the last read left the socket empty, and the round has not been left
// since. A request whose body (or upgraded stream) is read from the client
// is served outside the round, the ordinary way, and a new round begins.
func (c *clientConn) serveRounds() {
	opts := &c.p.opts
	for {
		c.rio.readTimeout = opts.IdleTimeout
		if c.first {
			c.rio.readBy = c.started.Add(opts.HeaderTimeout)
		}
		c.rio.armRead() // the round's wait keeps the deadline set here
		c.rio.readBy = time.Time{}
		c.roundEnd = roundFailed
		err := c.rio.raw.Read(c.roundFn)
		switch c.roundEnd {
		case roundFailed: // the wait failed: a timeout, or closed
			c.headRead(err)
			return
		case roundDone:
			return
		}
		// roundOutside: c.req holds a request that reads the client.
		if !c.forward(c.reqStart) {
			return
		}
	}
}

// How a round of serveRounds ended.
const (
	roundFailed  = iota // its wait failed
	roundDone           // the connection is done
	roundOutside        // c.req is to be forwarded outside the round
)

// round is the callback of serveRounds' RawConn.Read: it serves what the
// socket has and reports false to wait for more.
func (c *clientConn) round(fd uintptr) bool {
	rio := c.rio
	rio.inRound, rio.fd = true, fd
	defer func() { rio.inRound = false }()
	c.keptAlive.Store(false)
	for {
		c.idle.Store(true)
		head, err := c.nextHead(c.first)
		if err == errWouldBlock {
			c.keptAlive.Store(!c.first && c.br.Buffered() == 0)
			return false
		}
		c.first = false
		if !c.headRead(err) {
			c.roundEnd = roundDone
			return true
		}
		start := time.Now()
		if !c.parse(head) {
			c.roundEnd = roundDone
			return true
		}
		if r := &c.req; r.body.chunked || r.body.contentLength > 0 || r.upgrade != nil {
			c.roundEnd, c.reqStart = roundOutside, start
			return true
		}
		if !c.forward(start) {
			c.roundEnd = roundDone
			return true
		}
		if c.br.Buffered() == 0 && rio.drained {
			// Nothing unread: wait for the next request (the idle timeout
			// from now) without a read that would find nothing.
			c.idle.Store(true)
			rio.readTimeout = c.p.opts.IdleTimeout
			rio.armRead()
			c.keptAlive.Store(true)
			return false
		}
	}
}

// nextHead waits for the next request head and reads it. The wait for its
// first byte is bounded by IdleTimeout, the head by HeaderTimeout: from the
// connection's start for the first request, else from the first byte
// (only set when the head did not arrive at once).
func (c *clientConn) nextHead(first bool) ([]byte, error) {
	rio, opts := c.rio, &c.p.opts
	rio.readTimeout = opts.IdleTimeout
	if first {
		rio.readBy = c.started.Add(opts.HeaderTimeout)
	}
	defer func() { rio.readBy = time.Time{} }()
	if c.br.Buffered() == 0 {
		c.keptAlive.Store(!first)
		_, err := c.br.Peek(1)
		c.keptAlive.Store(false)
		if err != nil {
			return nil, err
		}
	}
	if b, _ := c.br.Peek(c.br.Buffered()); !first && headEnd(b, 0) < 0 {
		// Kept across calls: in a round, a head that arrives in pieces is
		// read by several calls, all bounded by its first byte's deadline.
		if c.headBy.IsZero() {
			c.headBy = time.Now().Add(opts.HeaderTimeout)
		}
		rio.readBy = c.headBy
	}
	head, err := readHead(c.br)
	if err != errWouldBlock {
		c.headBy = time.Time{}
	}
	return head, err
}

// reject answers a request refused for the client's fault, counts it apart
// from every revision's stats, and asks the client to close the connection.
func (c *clientConn) reject(reason Reason) {
	c.p.rejected.add(reason)
	c.p.logf("refused a request from %s: %s (%d)", c.fwd.ip, reason, reason.status())
	c.writeError(reason.status(), false)
}

var statusText = map[int]string{
	400: "Bad Request",
	405: "Method Not Allowed",
	408: "Request Timeout",
	431: "Request Header Fields Too Large",
	501: "Not Implemented",
	502: "Bad Gateway",
	503: "Service Unavailable",
	504: "Gateway Timeout",
	505: "HTTP Version Not Supported",
}

var errorBody = map[int]string{
	400: "bad request\n",
	405: "method not allowed\n",
	408: "request timed out\n",
	431: "request head too large\n",
	501: "transfer coding not implemented\n",
	502: "upstream unavailable\n",
	503: "no ready endpoint\n",
	504: "upstream timed out\n",
	505: "only HTTP/1.0 and HTTP/1.1 are supported\n",
}

// writeError writes a short plain-text error response produced by the proxy.
func (c *clientConn) writeError(code int, keep bool) error {
	writeErrorResponse(c.bw, code, errorBody[code], keep)
	if !keep {
		c.linger = true
	}
	return c.bw.Flush()
}

// textWriter is what writeErrorResponse writes to (a bufio.Writer or a
// bytes.Buffer).
type textWriter interface {
	WriteString(s string) (int, error)
	WriteByte(b byte) error
}

// closingErrorResponse is the whole of a plain-text error response that
// closes the connection, for answers written as they are.
func closingErrorResponse(code int, body string) []byte {
	var b bytes.Buffer
	writeErrorResponse(&b, code, body, false)
	return b.Bytes()
}

// writeErrorResponse writes the head and body of a plain-text error
// response produced by the proxy: with Retry-After for a 503, and
// Connection: close unless keep.
func writeErrorResponse(w textWriter, code int, body string, keep bool) {
	w.WriteString("HTTP/1.1 ")
	w.WriteString(strconv.Itoa(code))
	w.WriteByte(' ')
	w.WriteString(statusText[code])
	w.WriteString("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ")
	w.WriteString(strconv.Itoa(len(body)))
	if code == 503 {
		w.WriteString("\r\nRetry-After: 1")
	}
	if !keep {
		w.WriteString("\r\nConnection: close")
	}
	w.WriteString("\r\n\r\n")
	w.WriteString(body)
}

// lingerClose half-closes c and reads what the client still sends for a
// moment, so that an error response is not destroyed by a reset caused by
// unread request bytes.
func lingerClose(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	io.CopyN(io.Discard, c, 256<<10)
}

// tunnel copies bytes both ways between the client and an upstream that
// accepted an upgrade, until either side ends; then both are closed.
// Reads wait as long as they must; a write that the other side does not
// accept within its write timeout ends the tunnel.
func (c *clientConn) tunnel(uc *upstreamConn) {
	c.rio.readTimeout, uc.rio.readTimeout = 0, 0
	done := make(chan struct{})
	go func() {
		io.Copy(uc.rio, c.br)
		uc.conn.Close()
		c.conn.Close()
		close(done)
	}()
	io.Copy(c.rw, uc.br)
	uc.conn.Close()
	c.conn.Close()
	<-done
}
