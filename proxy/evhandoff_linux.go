//go:build linux

package proxy

import (
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// handMode is where a goroutine takes over a connection from its loop.
type handMode uint8

const (
	handClose   handMode = iota // write what is pending, linger if asked, close
	handRest                    // write the rest of a response, end its exchange, then serve on
	handForward                 // forward c.req (its head still buffered), then serve on
	handRelay                   // relay the response to the request sent on c.ev.t.uc, then serve on
)

// handOff moves c (and for handRelay its upstream connection) out of the
// loop to a goroutine of its own, which serves it the ordinary way from
// then on: the socket is given to Go's poller as a net.Conn, with the
// buffers and what they hold. That takes a duplicate descriptor: when the
// process has none left, the loop answers on the raw socket itself (see
// handOffFailed).
func (l *evLoop) handOff(c *clientConn, mode handMode) {
	delete(l.conns, c)
	answered := false
	nc, err := l.release(c.ev.fd, func(fd int) { answered = l.handOffFailed(c, mode, fd) })
	var uerr error
	uc := c.ev.t.uc
	if mode == handRelay && err == nil {
		var unc net.Conn
		if unc, uerr = l.release(uc.fd, nil); uerr == nil {
			uc.conn = unc
			uc.rio.attach(unc)
			uc.client = nil
		}
	}
	if err != nil || uerr != nil {
		l.p.logf("event loop: hand a connection to a goroutine: %v", firstErr(err, uerr))
		if mode == handRelay && err != nil {
			l.closeUp(uc) // not released: still the loop's
		}
		if err == nil {
			// The upstream connection could not be handed over: the
			// goroutine answers 503 instead of relaying the response.
			l.finishEx(c, handOffOutcome)
			c.rio.pending = append(c.rio.pending, outOfDescriptorsResponse...)
			c.linger = true
			l.resume(c, nc, handClose)
			return
		}
		l.countHandOffFailed(c, mode, answered)
		c.ev.loop.Store(nil)
		c.release()
		return
	}
	l.resume(c, nc, mode)
}

// resume hands c, now on nc, to a goroutine.
func (l *evLoop) resume(c *clientConn, nc net.Conn, mode handMode) {
	c.conn = nc
	c.rio.attach(nc)
	c.ev.deadline = time.Time{}
	c.ev.loop.Store(nil)
	go c.resume(mode)
}

// release takes fd out of the loop and returns its socket as a net.Conn.
// When the process is out of descriptors for that, last (if not nil) is
// called with fd still open, before it is closed.
func (l *evLoop) release(fd int, last func(fd int)) (net.Conn, error) {
	l.setOwner(fd, evOwner{})
	// Explicitly: the duplicate net.FileConn makes would keep it in the set.
	unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	return fdConn(fd, last)
}

// fdConn returns socket fd as a net.Conn (fd itself is closed). When that
// fails, last (if not nil) is called with fd still open.
func fdConn(fd int, last func(fd int)) (net.Conn, error) {
	f := os.NewFile(uintptr(fd), "")
	nc, err := net.FileConn(f)
	if err != nil && last != nil {
		last(fd)
	}
	f.Close()
	return nc, err
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// resume serves a connection handed over by its loop, from the point
// mode says, then as serve does.
func (c *clientConn) resume(mode handMode) {
	defer c.close()
	ex := &c.ev
	var err error
	if p := c.rio.pending; len(p) > 0 {
		c.rio.pending = nil
		_, err = c.rio.Write(p)
	}
	switch mode {
	case handClose:
		return
	case handRest:
		o := ex.o
		if err != nil {
			o = outcome{clientClosed: true}
		}
		finish(ex.t, ex.t.route.stats, ex.paths, ex.pi, ex.start, o)
		ex.t, ex.counted = target{}, false
		if err != nil || !ex.x.keep {
			return
		}
	case handForward:
		if !c.forward(ex.start) {
			return
		}
	case handRelay: // nothing was pending: the response had not begun
		ex.t.uc.rio.readTimeout = min(watchInterval, c.p.opts.ResponseHeaderTimeout)
		st := ex.t.route.stats
		o, keep := c.relay(ex.t, ex.setCookie, st, ex.start, ex.x)
		finish(ex.t, st, ex.paths, ex.pi, ex.start, o)
		ex.t, ex.counted = target{}, false
		if !keep {
			return
		}
	}
	c.serveRounds()
}
