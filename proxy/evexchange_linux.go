//go:build linux

package proxy

import (
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The request path inside an event loop: the same steps as serveRounds,
// forward and exchange (the same parser, routing, head writers and
// counters), cut where they would wait. What the loop does not do itself
// it hands to a goroutine at a point where nothing is half done (handOff):
//
//   - a request with a body or an upgrade, or one that finds no route, no
//     endpoint or no connection the loop can make (a host name, a refused
//     dial: the goroutine tries the other endpoints and answers 502/503/504),
//     with its head parsed and still buffered (handForward);
//   - a response that is informational, 101, chunked, close-delimited,
//     larger than the upstream read buffer or not all arrived (its body is
//     streamed as it comes), with its head read (handRelay);
//   - a response the client does not take at once, with what is unwritten
//     (handRest: the exchange ends when it is written, or the client write
//     times out), and an error answer that must linger (handClose).

// clientEvent acts on an event of a client socket.
func (l *evLoop) clientEvent(c *clientConn, events uint32) {
	if c.ev.phase == evHead {
		c.rio.drained = false
		l.serveHeads(c)
		return
	}
	// An exchange runs: the bytes (a pipelined request) wait in the socket.
	if events&unix.EPOLLIN != 0 {
		c.rio.drained = false
	}
	if events&hangUpEvents != 0 && !c.ev.hungUp {
		// Checked as the goroutine path does: every watchInterval while the
		// response is awaited, from when the request was sent.
		c.ev.hungUp = true
		l.watch(c, c.ev.x.sent)
	}
}

// upstreamEvent acts on an event of an upstream socket.
func (l *evLoop) upstreamEvent(uc *upstreamConn, events uint32) {
	c := uc.client
	if c == nil {
		if events&(unix.EPOLLIN|hangUpEvents) != 0 {
			uc.evSeen = true // closed or spoke while idle: checked before reuse
		}
		return
	}
	switch c.ev.phase {
	case evConnect:
		if events&(unix.EPOLLOUT|hangUpEvents) != 0 {
			l.connected(c)
		}
	case evSend:
		if events&(unix.EPOLLOUT|hangUpEvents) != 0 {
			l.sendRest(c)
		}
	case evAwait:
		l.response(c)
	}
}

// serveHeads reads the next request head, as clientConn.round does, and
// starts forwarding it.
func (l *evLoop) serveHeads(c *clientConn) {
	c.keptAlive.Store(false)
	c.idle.Store(true)
	head, err := c.nextHead(c.first)
	if err == errWouldBlock {
		c.keptAlive.Store(!c.first && c.br.Buffered() == 0)
		l.waitHead(c)
		return
	}
	c.first = false
	if !c.headRead(err) {
		l.closeClient(c)
		return
	}
	start := time.Now()
	if !c.parse(head) {
		l.closeClient(c)
		return
	}
	c.ev.start = start
	if r := &c.req; r.body.chunked || r.body.contentLength > 0 || r.upgrade != nil {
		l.handOff(c, handForward)
		return
	}
	l.forward(c)
}

// waitHead waits for (the rest of) a request head: bounded by
// HeaderTimeout from the connection's start for the first, from its first
// byte for a later one, else by IdleTimeout.
func (l *evLoop) waitHead(c *clientConn) {
	ex := &c.ev
	ex.phase = evHead
	switch o := &l.p.opts; {
	case c.first:
		l.setDeadline(c, c.started.Add(o.HeaderTimeout))
	case !c.headBy.IsZero():
		l.setDeadline(c, c.headBy)
	default:
		l.setDeadline(c, l.now.Add(o.IdleTimeout))
	}
}

// next serves the connection's next request after an exchange: at once
// when its bytes are here (pipelined), else once they come.
func (l *evLoop) next(c *clientConn) {
	if c.br.Buffered() == 0 && c.rio.drained {
		c.idle.Store(true)
		c.keptAlive.Store(true)
		l.waitHead(c)
		return
	}
	l.serveHeads(c)
}

// forward routes c.req as clientConn.forward does and starts the exchange
// on a pooled or new upstream connection of the loop.
func (l *evLoop) forward(c *clientConn) {
	ex := &c.ev
	rt := l.p.routing.Load()
	r, stuck := rt.choose(c.req.sticky)
	var ep *endpoint
	if r != nil {
		ep = r.endpoint(c.tried[:0])
	}
	if ep == nil || !ep.ap.IsValid() {
		l.handOff(c, handForward)
		return
	}
	ep.inFlight.Add(1)
	if ep.removed.Load() { // left the table after we read it
		ep.inFlight.Add(-1)
		l.handOff(c, handForward)
		return
	}
	ex.t = target{route: r, ep: ep}
	ex.stuck, ex.paths, ex.pi = stuck, rt.paths, rt.pathIndex(c.req.path)
	ex.setCookie = nil
	if r != stuck {
		ex.setCookie = r.setCookie
	}
	ex.x = exchangeState{isHead: c.req.isHead(), minor: c.req.minor,
		keep: c.req.keepAlive() && !l.p.shutting.Load(), sent: ex.start}
	ex.counted, ex.hungUp = false, false
	if uc := l.take(ep); uc != nil {
		ex.t.uc, ex.t.reused = uc, true
		uc.client = c
		l.send(c)
		return
	}
	l.connect(c)
}

// connect starts a new connection to the exchange's endpoint.
func (l *evLoop) connect(c *clientConn) {
	ex := &c.ev
	uc, connecting, err := l.dial(ex.t.ep)
	if err != nil {
		l.connectFailed(c, err)
		return
	}
	ex.t.uc, ex.t.reused = uc, false
	uc.client = c
	if connecting {
		ex.phase = evConnect
		l.setDeadline(c, l.now.Add(l.p.opts.DialTimeout))
		return
	}
	l.send(c)
}

// connected checks a connection under way on its first writable event.
func (l *evLoop) connected(c *clientConn) {
	fd := c.ev.t.uc.fd
	errno, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && errno != 0 {
		err = syscall.Errno(errno)
	}
	if err == nil {
		if _, perr := unix.Getpeername(fd); perr == unix.ENOTCONN {
			return // an event for an earlier socket of the same number
		} else if perr != nil {
			err = perr
		}
	}
	if err != nil {
		l.closeUp(c.ev.t.uc)
		c.ev.t.uc = nil
		l.connectFailed(c, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)})
		return
	}
	l.send(c)
}

// connectFailed handles a connection the loop could not make: before the
// request was counted, the goroutine path takes it over with the endpoint
// counted as tried (it tries the others and answers 502 or 504, as
// clientConn.connect); after (a reused connection found closed, redialled),
// 502, as sendHead.
func (l *evLoop) connectFailed(c *clientConn, err error) {
	ex := &c.ev
	ep := ex.t.ep
	if ex.counted {
		l.p.logf("reconnect to endpoint %s (%s): %v", ep.id, ep.addr, err)
		l.fail(c, 502)
		return
	}
	l.p.logf("connect to endpoint %s (%s) of revision %d: %v", ep.id, ep.addr, ex.t.route.revision, err)
	ep.inFlight.Add(-1)
	ex.t = target{}
	ex.preTried, ex.preErr = ep, err
	l.handOff(c, handForward)
}

// send writes the request head upstream (as sendHead: on a reused
// connection that takes none of it, once more on a new one).
func (l *evLoop) send(c *clientConn) {
	ex := &c.ev
	t := &ex.t
	if !ex.counted {
		ex.counted = true
		t.route.stats.inFlight.Add(1)
		c.countUser(t.route.stats, ex.start)
	}
	uc := t.uc
	c.req.writeHead(uc.bw, c.fwd, t.ep.addr)
	buffered := uc.bw.Buffered()
	if err := uc.bw.Flush(); err != nil {
		wrote := uc.bw.Buffered() != buffered
		l.closeUp(uc)
		t.uc = nil
		if !t.reused || wrote {
			l.p.logf("send request to endpoint %s (%s): %v", t.ep.id, t.ep.addr, err)
			l.fail(c, 502)
			return
		}
		l.connect(c) // nothing reached the backend
		return
	}
	c.br.Discard(len(c.req.head))
	if len(uc.rio.pending) > 0 {
		ex.phase = evSend
		l.setDeadline(c, l.now.Add(l.p.opts.UpstreamTimeout))
		return
	}
	l.await(c)
}

// sendRest writes what of the head the upstream did not take at once.
func (l *evLoop) sendRest(c *clientConn) {
	ex := &c.ev
	uc := ex.t.uc
	done, err := uc.rio.flushPending()
	switch {
	case err != nil:
		l.closeUp(uc)
		ex.t.uc = nil
		l.p.logf("send request to endpoint %s (%s): %v", ex.t.ep.id, ex.t.ep.addr, err)
		l.fail(c, 502)
	case done:
		l.await(c)
	default:
		l.setDeadline(c, l.now.Add(l.p.opts.UpstreamTimeout))
	}
}

// await waits for the response, ResponseHeaderTimeout from the request.
func (l *evLoop) await(c *clientConn) {
	ex := &c.ev
	ex.phase = evAwait
	l.setDeadline(c, ex.x.sent.Add(l.p.opts.ResponseHeaderTimeout))
}

// response reads the response as far as it has come, and relays a
// complete one (with a Content-Length or no body) as exchange does.
func (l *evLoop) response(c *clientConn) {
	ex := &c.ev
	uc := ex.t.uc
	resp := &c.resp
	head, err := readHead(uc.br)
	if err == errWouldBlock {
		return
	}
	if err == nil {
		err = resp.parse(head)
	}
	if err != nil {
		l.closeUp(uc)
		ex.t.uc = nil
		l.p.logf("read response from endpoint %s (%s): %v", ex.t.ep.id, ex.t.ep.addr, err)
		l.fail(c, 502)
		return
	}
	kind := resp.bodyKind(ex.x.isHead)
	if resp.status < 200 || kind == bodyChunked || kind == bodyUntilEOF ||
		kind == bodyLength && resp.body.contentLength > int64(uc.br.Size()-len(head)) {
		l.handOff(c, handRelay)
		return
	}
	total := len(head)
	if kind == bodyLength {
		total += int(resp.body.contentLength)
	}
	if uc.br.Buffered() < total {
		// The body is still coming: it is streamed as it comes, by a goroutine.
		l.handOff(c, handRelay)
		return
	}
	keep := ex.x.keep
	conn := ""
	switch {
	case !keep:
		conn = "close"
	case ex.x.minor == 0:
		conn = "keep-alive"
	}
	resp.writeHead(c.bw, clientHead{setCookie: ex.setCookie, connection: conn})
	if total > len(head) {
		b, _ := uc.br.Peek(total)
		c.bw.Write(b[len(head):])
	}
	o := outcome{status: resp.status}
	upstreamKeep := resp.reusable()
	uc.br.Discard(total)
	ex.t.uc = nil
	if err := c.bw.Flush(); err != nil {
		l.closeUp(uc)
		o, keep = outcome{clientClosed: true}, false
	} else if upstreamKeep {
		l.put(uc)
	} else {
		l.closeUp(uc)
	}
	if len(c.rio.pending) > 0 {
		// The client has not taken it all: the exchange ends when a
		// goroutine has written the rest (or the client write timed out).
		ex.o, ex.x.keep = o, keep
		l.handOff(c, handRest)
		return
	}
	l.finishEx(c, o)
	if !keep {
		l.closeClient(c)
		return
	}
	l.next(c)
}

// fail answers an exchange the proxy could not complete with code and
// closes the connection, as exchange's answer does.
func (l *evLoop) fail(c *clientConn, code int) {
	l.finishEx(c, outcome{status: code, proxyError: true})
	c.answer(code, false)
	l.closeClient(c)
}

// finishEx ends the exchange with outcome o (see finish).
func (l *evLoop) finishEx(c *clientConn, o outcome) {
	ex := &c.ev
	switch {
	case ex.counted:
		finish(ex.t, ex.t.route.stats, ex.paths, ex.pi, ex.start, o)
	case ex.t.ep != nil:
		ex.t.ep.inFlight.Add(-1)
	}
	ex.t, ex.counted, ex.deadline = target{}, false, time.Time{}
}

// abandon gives up the exchange of a client that is gone (or killed).
func (l *evLoop) abandon(c *clientConn) {
	if uc := c.ev.t.uc; uc != nil {
		l.closeUp(uc)
		c.ev.t.uc = nil
	}
	l.finishEx(c, outcome{clientClosed: true})
	l.drop(c)
}

// timeout acts on the deadline of c's phase.
func (l *evLoop) timeout(c *clientConn) {
	ex := &c.ev
	uc := ex.t.uc
	switch ex.phase {
	case evHead:
		c.headRead(os.ErrDeadlineExceeded) // 408 for a head begun
		l.closeClient(c)
	case evConnect:
		l.closeUp(uc)
		ex.t.uc = nil
		l.connectFailed(c, &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded})
	case evSend:
		l.closeUp(uc)
		ex.t.uc = nil
		l.p.logf("send request to endpoint %s (%s): %v", ex.t.ep.id, ex.t.ep.addr, os.ErrDeadlineExceeded)
		l.fail(c, 502)
	case evAwait:
		l.closeUp(uc)
		ex.t.uc = nil
		l.p.logf("endpoint %s (%s) sent no response head within %v", ex.t.ep.id, ex.t.ep.addr, l.p.opts.ResponseHeaderTimeout)
		l.fail(c, 504)
	}
}
