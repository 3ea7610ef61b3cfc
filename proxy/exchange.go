package proxy

import (
	"errors"
	"os"
	"time"
)

// exchange sends the request in c.req on t.uc and relays the response. It
// owns t.uc: the connection goes back to the pool or is closed. It reports
// the outcome and whether the client connection may carry another request.
func (c *clientConn) exchange(t target, setCookie []byte, st *revStats, start time.Time) (outcome, bool) {
	req := &c.req
	// What the rest needs from the head, which is discarded once sent.
	isHead := req.isHead()
	minor := req.minor
	keep := req.keepAlive() && !c.p.shutting.Load()
	wantUpgrade := req.upgrade != nil
	chunked := req.body.chunked
	length := max(req.body.contentLength, 0)
	expect := req.expectContinue && minor == 1

	x := exchangeState{isHead: isHead, minor: minor, keep: keep, wantUpgrade: wantUpgrade, sent: start}
	uc, ok := c.sendHead(&t, &length)
	if !ok {
		return outcome{status: 502, proxyError: true}, c.answer(502, false)
	}

	// Stream the rest of the request body.
	if chunked || length > 0 {
		if expect {
			c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			if err := c.bw.Flush(); err != nil {
				uc.conn.Close()
				return outcome{clientClosed: true}, false
			}
		}
		c.rio.readTimeout = c.p.opts.BodyTimeout
		var err error
		if chunked {
			err = copyChunked(uc.bw, c.br, false)
		} else {
			err = copyLength(uc.bw, c.br, length)
		}
		if err == nil {
			if ferr := uc.bw.Flush(); ferr != nil {
				err = writeErr(ferr)
			}
		}
		if err != nil {
			if isReadErr(err) {
				uc.conn.Close()
				switch {
				case errors.Is(err, errChunk):
					c.reject(ReasonChunk)
					return outcome{reject: ReasonChunk}, false
				case errors.Is(err, os.ErrDeadlineExceeded):
					c.reject(ReasonBodyTimeout)
					return outcome{reject: ReasonBodyTimeout}, false
				}
				return outcome{clientClosed: true}, false
			}
			// The upstream stopped reading; it may have answered already
			// (413, say). Relay that answer if there is one, then close.
			x.upstreamBroken = true
			x.keep = false
		}
	}
	if chunked || length > 0 {
		x.sent = time.Now()
	}
	t.uc = uc
	return c.relay(t, setCookie, st, start, x)
}

// exchangeState is what relay needs to know of the request it relays the
// response to (its head is gone by then).
type exchangeState struct {
	isHead, wantUpgrade bool
	minor               int
	keep                bool      // the client connection may carry another request
	upstreamBroken      bool      // the upstream stopped reading the request body
	sent                time.Time // when the request was sent in full
}

// relay reads the response to the request sent on t.uc, relaying
// informational responses, and relays it (or the upgraded stream) to the
// client. It owns t.uc, and reports as exchange does.
func (c *clientConn) relay(t target, setCookie []byte, st *revStats, start time.Time, x exchangeState) (outcome, bool) {
	uc, isHead, minor, wantUpgrade, keep, sent := t.uc, x.isHead, x.minor, x.wantUpgrade, x.keep, x.sent
	// Read the response head, relaying informational responses.
	resp := &c.resp
	var head []byte
	for {
		var err error
		head, err = readHead(uc.br)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			switch {
			case time.Since(sent) >= c.p.opts.ResponseHeaderTimeout:
				uc.conn.Close()
				c.p.logf("endpoint %s (%s) sent no response head within %v", t.ep.id, t.ep.addr, c.p.opts.ResponseHeaderTimeout)
				return outcome{status: 504, proxyError: true}, c.answer(504, false)
			case c.clientGone():
				uc.conn.Close() // abandon the exchange: nobody waits for it
				return outcome{clientClosed: true}, false
			}
			continue
		}
		if err == nil {
			err = resp.parse(head)
		}
		if err != nil {
			uc.conn.Close()
			c.p.logf("read response from endpoint %s (%s): %v", t.ep.id, t.ep.addr, err)
			return outcome{status: 502, proxyError: true}, c.answer(502, false)
		}
		if resp.status >= 200 || resp.status == 101 {
			break
		}
		if resp.status != 100 && minor == 1 { // 100 was answered by the proxy itself
			resp.writeHead(c.bw, clientHead{})
		}
		uc.br.Discard(len(head))
	}

	if resp.status == 101 {
		if !wantUpgrade {
			uc.conn.Close()
			c.p.logf("endpoint %s (%s) switched protocols without being asked", t.ep.id, t.ep.addr)
			return outcome{status: 502, proxyError: true}, c.answer(502, false)
		}
		resp.writeHead(c.bw, clientHead{upgrade: true, setCookie: setCookie})
		uc.br.Discard(len(head))
		if err := c.bw.Flush(); err != nil {
			uc.conn.Close()
			return outcome{clientClosed: true}, false
		}
		st.record(outcome{status: 101}, time.Since(start))
		c.tunnel(uc)
		return outcome{recorded: true}, false
	}

	kind := resp.bodyKind(isHead)
	upstreamKeep := resp.reusable() && kind != bodyUntilEOF && !x.upstreamBroken
	decode := kind == bodyChunked && minor == 0
	if kind == bodyUntilEOF || decode {
		keep = false
	}
	conn := ""
	switch {
	case !keep:
		conn = "close"
	case minor == 0:
		conn = "keep-alive"
	}
	resp.writeHead(c.bw, clientHead{dropTE: decode, setCookie: setCookie, connection: conn})
	length := resp.body.contentLength
	uc.br.Discard(len(head))
	uc.rio.readTimeout = c.p.opts.UpstreamTimeout

	o := outcome{status: resp.status}
	var err error
	switch kind {
	case bodyLength:
		err = copyLength(c.bw, uc.br, length)
	case bodyChunked:
		err = copyChunked(c.bw, uc.br, decode)
	case bodyUntilEOF:
		err = copyUntilEOF(c.bw, uc.br)
	}
	if err == nil {
		if ferr := c.bw.Flush(); ferr != nil {
			err = writeErr(ferr)
		}
	}
	if err != nil {
		uc.conn.Close()
		if isReadErr(err) {
			// The upstream failed mid-body: the client gets a truncated
			// response, which is an upstream failure whatever the status said.
			c.p.logf("relay response body from endpoint %s (%s): %v", t.ep.id, t.ep.addr, err)
			return outcome{status: 502, proxyError: true}, false
		}
		return outcome{clientClosed: true}, false
	}
	if upstreamKeep {
		t.ep.put(uc)
	} else {
		uc.conn.Close()
	}
	return o, keep
}

// sendHead writes the request head upstream, with the body too when it is
// short and already buffered (then *length is set to 0), and discards them
// from the client reader. A reused connection that fails before any byte
// was written (the upstream had closed it) is replaced by a fresh one, once:
// nothing reached the backend, so nothing is sent twice. It returns the
// connection in use, or false after closing it.
func (c *clientConn) sendHead(t *target, length *int64) (*upstreamConn, bool) {
	req := &c.req
	n := len(req.head)
	var inline int
	if l := *length; l > 0 && l <= upstreamWriteBuf/2 && int64(c.br.Buffered()-n) >= l {
		inline = int(l)
	}
	uc := t.uc
	// While waiting for the response head, wake up every watchInterval to
	// check on the client.
	uc.rio.readTimeout = min(watchInterval, c.p.opts.ResponseHeaderTimeout)
	for {
		req.writeHead(uc.bw, c.fwd, t.ep.addr)
		if inline > 0 {
			b, _ := c.br.Peek(n + inline)
			uc.bw.Write(b[n:])
		}
		buffered := uc.bw.Buffered()
		// With nothing more to send, wait for the response in the same
		// poller round as the write (see awaitWriter).
		uc.aw.armed = inline > 0 || *length == 0 && !c.req.body.chunked
		err := uc.bw.Flush()
		uc.aw.armed = false
		if err == nil {
			break
		}
		uc.conn.Close()
		if !t.reused || uc.bw.Buffered() != buffered {
			c.p.logf("send request to endpoint %s (%s): %v", t.ep.id, t.ep.addr, err)
			return nil, false
		}
		// Nothing was written on a reused connection: retry on a new one.
		fresh, derr := t.ep.dial()
		if derr != nil {
			c.p.logf("reconnect to endpoint %s (%s): %v", t.ep.id, t.ep.addr, derr)
			return nil, false
		}
		uc, t.reused = fresh, false
		uc.rio.readTimeout = min(watchInterval, c.p.opts.ResponseHeaderTimeout)
	}
	c.br.Discard(n + inline)
	if inline > 0 {
		*length = 0
	}
	return uc, true
}

// watchInterval is how often the proxy checks that a client waiting for a
// response is still connected.
const watchInterval = time.Second

// clientGone reports whether the client closed or reset its connection
// (with no request of it left unread): then the exchange under way is
// abandoned, as nginx does.
func (c *clientConn) clientGone() bool {
	return c.br.Buffered() == 0 && c.rio.peek() == peerClosed
}

// answer writes an error response produced by the proxy and reports whether
// the client connection may stay open (it may not: the request body, if
// any, was left unread or half sent).
func (c *clientConn) answer(code int, keep bool) bool {
	if err := c.writeError(code, keep); err != nil {
		return false
	}
	return keep
}
