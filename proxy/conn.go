package proxy

import (
	"bufio"
	"io"
	"net"
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
	p    *Proxy
	conn net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	fwd  forwarded // what the upstream is told about the client

	idle        atomic.Bool // waiting for a request head (Shutdown may close it)
	linger      bool        // an error was answered with input maybe unread
	deadlineSet time.Time   // when the read deadline was last moved

	// Per-request scratch space, reused so the request path does not allocate.
	req   request
	resp  response
	tried [maxTries]*endpoint
}

func newClientConn(p *Proxy, c net.Conn) *clientConn {
	cc := &clientConn{p: p, conn: c}
	var rw io.ReadWriter = c
	if rio := newRawIO(c); rio != nil {
		rw = rio
	}
	if v := clientReaders.Get(); v != nil {
		cc.br = v.(*bufio.Reader)
		cc.br.Reset(rw)
	} else {
		cc.br = bufio.NewReaderSize(rw, clientReadBuf)
	}
	if v := clientWriters.Get(); v != nil {
		cc.bw = v.(*bufio.Writer)
		cc.bw.Reset(rw)
	} else {
		cc.bw = bufio.NewWriterSize(rw, clientWriteBuf)
	}
	cc.fwd = p.forwardedFor(c.RemoteAddr())
	cc.idle.Store(true)
	return cc
}

func (c *clientConn) close() {
	if c.linger {
		lingerClose(c.conn)
	}
	c.conn.Close()
	c.br.Reset(nil)
	c.bw.Reset(nil)
	clientReaders.Put(c.br)
	clientWriters.Put(c.bw)
	c.p.forget(c)
}

// serve reads requests and forwards them until the connection ends.
func (c *clientConn) serve() {
	defer c.close()
	for {
		c.idle.Store(true)
		if c.p.shutting.Load() {
			return
		}
		if c.br.Buffered() == 0 {
			c.extendDeadline()
		}
		head, err := readHead(c.br)
		c.idle.Store(false)
		if err != nil {
			switch err {
			case errHeadTooLarge:
				c.reject(ReasonHeadTooLarge)
			case errMalformed:
				c.reject(ReasonRequestLine)
			}
			return // EOF, timeout, or reset: the client is gone
		}
		start := time.Now()
		if reason := c.req.parse(head, c.p.opts.StickyCookie); reason != reasonNone {
			c.reject(reason)
			return
		}
		if !c.forward(start) {
			return
		}
	}
}

// extendDeadline moves the client read deadline IdleTimeout ahead, at most
// once a second so the request path rarely touches the timer.
func (c *clientConn) extendDeadline() {
	now := time.Now()
	if now.Sub(c.deadlineSet) < time.Second {
		return
	}
	c.deadlineSet = now
	c.conn.SetReadDeadline(now.Add(c.p.opts.IdleTimeout))
}

// clearDeadline removes the read deadline while a request body streams in.
func (c *clientConn) clearDeadline() {
	c.deadlineSet = time.Time{}
	c.conn.SetReadDeadline(time.Time{})
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
	body := errorBody[code]
	w := c.bw
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
		c.linger = true
	}
	w.WriteString("\r\n\r\n")
	w.WriteString(body)
	return w.Flush()
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
func (c *clientConn) tunnel(uc *upstreamConn) {
	c.clearDeadline()
	done := make(chan struct{})
	go func() {
		io.Copy(uc.conn, c.br)
		uc.conn.Close()
		c.conn.Close()
		close(done)
	}()
	io.Copy(c.conn, uc.br)
	uc.conn.Close()
	c.conn.Close()
	<-done
}
