//go:build linux

package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// evLoop is an event loop: one goroutine with its own epoll set
// (edge-triggered) that serves the plain client connections the accept
// loop hands it and keeps its own pool of upstream connections. A socket
// event costs it no Go scheduler round (no goroutine parked, readied by
// the poller and picked up by a processor), which is what keeps a
// goroutine per connection behind nginx on few cores.
//
// The loop never blocks in a system call: it drains its set with
// epoll_wait of timeout 0 made as a raw system call (the runtime does not
// see it, so its monitor has no processor to retake and no thread to
// wake), and when a drain finds nothing it parks on Go's own poller until
// the epoll descriptor itself becomes readable, with its next timer as
// the read deadline (none when nothing can time out: an idle loop costs
// nothing). It holds no OS thread of its own while parked.
//
// A connection's state is in its clientConn (ev, req, resp and the
// buffers), moved along by events and by the loop's timer scan; see
// evexchange_linux.go for the request path and resume for what is handed
// to a goroutine. Other goroutines reach a loop only through post (a new
// connection, a kill, the stop) and its eventfd.
type evLoop struct {
	p      *Proxy
	epfd   int
	wakefd int // an eventfd in the epoll set: post writes it
	// epf is epfd as a file in Go's poller, which the loop parks on; rc
	// is its raw connection and parkFn l.park, made once.
	epf    *os.File
	rc     syscall.RawConn
	parkFn func(uintptr) bool

	mu     sync.Mutex
	posted []evPost
	woken  bool // wakefd was written since the loop last took the posts

	// The loop's own, touched by its goroutine only.
	owners    []evOwner                     // by file descriptor
	conns     map[*clientConn]struct{}      // the client connections it serves
	idle      map[*endpoint][]*upstreamConn // idle upstream connections, most recent last
	events    []unix.EpollEvent
	n         int       // events in events, from the last drain
	waitErr   error     // the last drain's error
	parkedTo  time.Time // the read deadline set on epf; zero: none
	taken     []evPost
	now       time.Time // when the last drain returned
	tick      time.Duration
	nextTick  time.Time
	nextSweep time.Time
	stop      bool
}

// evPost is work posted to a loop: a connection to serve or to kill, or
// (c nil) the order to stop once it serves no connection.
type evPost struct {
	c    *clientConn
	kill bool
}

// evOwner is what a file descriptor in a loop's epoll set belongs to.
type evOwner struct {
	c *clientConn
	u *upstreamConn
}

const (
	clientEvents   = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET
	upstreamEvents = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET
	hangUpEvents   = unix.EPOLLRDHUP | unix.EPOLLHUP | unix.EPOLLERR
	// poolSweep is how often a loop closes the idle upstream connections
	// of endpoints that left the table or stayed idle too long.
	poolSweep = time.Second
)

// startLoops starts Options.EventLoops loops for a plain listener. A loop
// that cannot be made (out of file descriptors) is logged and the proxy
// serves with goroutines.
func (p *Proxy) startLoops() {
	n := p.opts.EventLoops
	if n < 0 || p.tlsConfig != nil {
		return
	}
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	for range n {
		l, err := newEvLoop(p)
		if err != nil {
			p.logf("start event loop: %v; serving connections with goroutines", err)
			for _, l := range p.loops {
				l.post(evPost{})
			}
			p.loopsDone.Wait()
			p.loops = nil
			return
		}
		p.loops = append(p.loops, l)
		p.loopsDone.Add(1)
		go l.run()
	}
}

// stopLoops stops the loops once they serve no connection and waits.
// The accept loop has returned.
func (p *Proxy) stopLoops() {
	for _, l := range p.loops {
		l.post(evPost{})
	}
	p.loopsDone.Wait()
	p.loops = nil // a second Shutdown finds none
}

func newEvLoop(p *Proxy) (*evLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	wfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wfd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wfd)}); err != nil {
		unix.Close(wfd)
		unix.Close(epfd)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	// In Go's poller (the descriptor must be non-blocking for os.NewFile
	// to put it there; epoll_wait itself ignores the flag).
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(wfd)
		unix.Close(epfd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	epf := os.NewFile(uintptr(epfd), "epoll")
	rc, err := epf.SyscallConn()
	if err == nil {
		err = epf.SetReadDeadline(time.Time{}) // fails when not in the poller
	}
	if err != nil {
		unix.Close(wfd)
		epf.Close()
		return nil, fmt.Errorf("epoll descriptor in Go's poller: %w", err)
	}
	o := &p.opts
	// Timeouts are enforced within an eighth of their value, as rawIO's.
	tick := min(o.HeaderTimeout, o.DialTimeout, o.ResponseHeaderTimeout, o.UpstreamTimeout, o.IdleTimeout) / 8
	tick = min(max(tick, time.Millisecond), 250*time.Millisecond)
	l := &evLoop{
		p:      p,
		epfd:   epfd,
		wakefd: wfd,
		epf:    epf,
		rc:     rc,
		conns:  map[*clientConn]struct{}{},
		idle:   map[*endpoint][]*upstreamConn{},
		events: make([]unix.EpollEvent, 128),
		tick:   tick,
	}
	l.parkFn = l.park
	return l, nil
}

// acceptToLoops is the accept loop when there are event loops: it
// accepts with accept4 in a raw Read of a duplicate of the listening
// socket in Go's poller (parked there while none is pending; wakeAccept
// closes it), and hands each connection, a non-blocking socket Go's
// poller never sees, to the loops in turn. It reports false, having done
// nothing, when there are no loops or the listener has no socket.
func (p *Proxy) acceptToLoops() bool {
	if len(p.loops) == 0 {
		return false
	}
	sc, ok := p.ln.(syscall.Conn)
	if !ok {
		return false
	}
	lrc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	// The listener's own raw connection only offers Control: a duplicate
	// of its socket, non-blocking as the original, goes in the poller.
	lfd, derr := -1, error(nil)
	if err := lrc.Control(func(s uintptr) { lfd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil || derr != nil {
		p.logf("event loops: listening socket: %v; serving connections with goroutines", firstErr(err, derr))
		return false
	}
	f := os.NewFile(uintptr(lfd), "listener")
	rc, err := f.SyscallConn()
	if err == nil {
		err = f.SetReadDeadline(time.Time{}) // fails when not in the poller
	}
	p.mu.Lock()
	if err == nil && !p.shutting.Load() {
		p.acceptFile = f
	}
	p.mu.Unlock()
	if p.acceptFile == nil {
		f.Close()
		if err == nil {
			return true // shutting down already
		}
		p.logf("event loops: listening socket in Go's poller: %v; serving connections with goroutines", err)
		return false
	}
	defer f.Close()
	var (
		fd   int
		addr net.Addr
		aerr error
	)
	accept := func(s uintptr) bool {
		fd, addr, aerr = acceptSocket(int(s))
		return aerr != unix.EAGAIN
	}
	var backoff time.Duration
	for !p.shutting.Load() {
		err = rc.Read(accept)
		if err == nil && aerr != nil {
			err = os.NewSyscallError("accept4", aerr)
		}
		if err != nil {
			if p.acceptFailed(err, &backoff) {
				return true
			}
			continue
		}
		backoff = 0
		l := p.loops[p.nextLoop%len(p.loops)]
		p.nextLoop++
		switch cc, v := p.admit(func() *clientConn { return newLoopConn(p, l, fd, addr) }); v {
		case admitStop:
			unix.Close(fd)
			return true
		case admitRefuse:
			if nc, err := fdConn(fd); err == nil {
				p.refuseConn(nc)
			} else {
				p.rejected.add(ReasonConnLimit)
				p.served.Done()
			}
		default:
			l.post(evPost{c: cc})
		}
	}
	return true
}

// wakeAccept ends acceptToLoops' wait: the proxy is shutting down.
func (p *Proxy) wakeAccept() {
	p.mu.Lock()
	if p.acceptFile != nil {
		p.acceptFile.Close()
	}
	p.mu.Unlock()
}

// acceptSocket accepts a connection on the listening socket lfd, with the
// options Go's listener sets (no Nagle delay, TCP keep-alive every 15s).
func acceptSocket(lfd int) (int, net.Addr, error) {
	var fd int
	var sa unix.Sockaddr
	var err error
	for {
		fd, sa, err = unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != unix.EINTR && err != unix.ECONNABORTED {
			break
		}
	}
	if err != nil {
		return -1, nil, err
	}
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1)
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, 15)
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, 15)
	var addr net.Addr = &net.TCPAddr{}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		addr = &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}
	case *unix.SockaddrInet6:
		addr = &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}
	}
	return fd, addr, nil
}

// newLoopConn returns a connection on socket fd for loop l.
func newLoopConn(p *Proxy, l *evLoop, fd int, addr net.Addr) *clientConn {
	c := &clientConn{p: p, rio: &rawIO{loop: true, fd: uintptr(fd)}}
	c.rw = c.rio
	c.init(addr)
	c.ev.fd = fd
	c.ev.loop.Store(l)
	return c
}

// post queues e for the loop and wakes it.
func (l *evLoop) post(e evPost) {
	l.mu.Lock()
	l.posted = append(l.posted, e)
	wake := !l.woken
	l.woken = true
	l.mu.Unlock()
	if wake {
		one := [8]byte{1}
		unix.Write(l.wakefd, one[:])
	}
}

// kill closes c in the loop (see clientConn.kill).
func (l *evLoop) kill(c *clientConn) { l.post(evPost{c: c, kill: true}) }

// drain takes the events ready in the epoll set without waiting, by a
// raw system call: the runtime does not enter a system call for it.
func (l *evLoop) drain() {
	r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(l.epfd),
		uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), 0, 0, 0)
	l.n, l.waitErr = int(r), nil
	if e != 0 {
		l.n = 0
		if e != unix.EINTR {
			l.waitErr = os.NewSyscallError("epoll_wait", e)
		}
	}
}

// park is the callback of the epoll file's raw Read: done when a drain
// found events (or failed), else Go's poller parks the goroutine until
// the set has some.
func (l *evLoop) park(uintptr) bool {
	l.drain()
	return l.n > 0 || l.waitErr != nil
}

// wait returns with the next batch of events in l.events[:l.n], or none
// once the loop's next timer is due.
func (l *evLoop) wait() {
	l.drain()
	if l.n > 0 || l.waitErr != nil {
		return
	}
	var due time.Time // nothing to time out: an idle loop parks until posted to
	switch {
	case len(l.conns) > 0:
		due = l.nextTick
	case len(l.idle) > 0:
		due = l.nextSweep // only pooled upstream connections: the sweep is all that is due
	}
	if !due.Equal(l.parkedTo) {
		l.epf.SetReadDeadline(due)
		l.parkedTo = due
	}
	if err := l.rc.Read(l.parkFn); err != nil {
		l.n = 0
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			l.waitErr = err
		}
	}
}

func (l *evLoop) run() {
	defer l.p.loopsDone.Done()
	l.now = time.Now()
	l.nextTick = l.now.Add(l.tick)
	l.nextSweep = l.now.Add(poolSweep)
	for {
		l.wait()
		n := l.n
		l.now = time.Now()
		if l.waitErr != nil {
			l.p.logf("event loop: %v", l.waitErr)
			time.Sleep(10 * time.Millisecond)
		}
		for i := 0; i < n; i++ {
			ev := l.events[i]
			fd := int(ev.Fd)
			if fd == l.wakefd {
				l.takePosts()
				continue
			}
			if fd >= len(l.owners) {
				continue
			}
			switch o := l.owners[fd]; {
			case o.c != nil:
				l.clientEvent(o.c, ev.Events)
			case o.u != nil:
				l.upstreamEvent(o.u, ev.Events)
			}
		}
		if !l.now.Before(l.nextTick) {
			l.expire()
			l.nextTick = l.now.Add(l.tick)
		}
		if l.stop && len(l.conns) == 0 {
			l.close()
			return
		}
	}
}

// takePosts serves what other goroutines posted.
func (l *evLoop) takePosts() {
	var b [8]byte
	unix.Read(l.wakefd, b[:]) // reset before taking, so no later post goes unseen
	l.mu.Lock()
	posts := l.posted
	l.posted, l.taken = l.taken[:0], posts
	l.woken = false
	l.mu.Unlock()
	for _, e := range posts {
		switch {
		case e.c == nil:
			l.stop = true
		case e.kill:
			l.killConn(e.c)
		default:
			l.add(e.c)
		}
	}
	clear(posts)
}

func (l *evLoop) setOwner(fd int, o evOwner) {
	if fd >= len(l.owners) {
		if o == (evOwner{}) {
			return
		}
		l.owners = append(l.owners, make([]evOwner, fd+1-len(l.owners)+64)...)
	}
	l.owners[fd] = o
}

// add starts serving a connection adopted from the accept loop. Its
// first event comes from the epoll set itself, when bytes are already
// waiting.
func (l *evLoop) add(c *clientConn) {
	fd := c.ev.fd
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: clientEvents, Fd: int32(fd)}); err != nil {
		l.p.logf("event loop: add connection: %v", os.NewSyscallError("epoll_ctl", err))
		unix.Close(fd)
		c.ev.loop.Store(nil)
		c.release()
		return
	}
	l.setOwner(fd, evOwner{c: c})
	l.conns[c] = struct{}{}
	l.waitHead(c)
}

// killConn closes c: at once when it waits for a request, else abandoning
// its exchange. A connection handed to a goroutine meanwhile is closed
// there.
func (l *evLoop) killConn(c *clientConn) {
	if _, ok := l.conns[c]; !ok {
		if c.conn != nil {
			c.conn.Close()
		}
		return
	}
	if c.ev.phase == evHead {
		l.drop(c)
		return
	}
	l.abandon(c)
}

// closeClient ends a connection: in the loop, unless an answer is still
// to be written or the client given time to read it (lingerClose), which
// a goroutine does.
func (l *evLoop) closeClient(c *clientConn) {
	if c.linger || len(c.rio.pending) > 0 {
		l.handOff(c, handClose)
		return
	}
	l.drop(c)
}

// drop closes the client socket and forgets the connection.
func (l *evLoop) drop(c *clientConn) {
	delete(l.conns, c)
	l.setOwner(c.ev.fd, evOwner{})
	unix.Close(c.ev.fd) // the only descriptor of the socket: it leaves the epoll set
	c.ev.loop.Store(nil)
	c.release()
}

// expire acts on the deadlines that passed, checks on clients that hung
// up while their exchange runs, and sweeps the idle upstream pool.
func (l *evLoop) expire() {
	for c := range l.conns {
		ex := &c.ev
		if ex.phase == evAwait && ex.hungUp && !l.now.Before(ex.watchAt) {
			if c.clientGone() {
				l.abandon(c)
				continue
			}
			ex.watchAt = l.now.Add(watchInterval)
		}
		if !ex.deadline.IsZero() && !l.now.Before(ex.deadline) {
			ex.deadline = time.Time{}
			l.timeout(c)
		}
	}
	if !l.now.Before(l.nextSweep) {
		l.sweep()
		l.nextSweep = l.now.Add(poolSweep)
	}
}

// take returns an idle upstream connection to ep that still looks open,
// or nil.
func (l *evLoop) take(ep *endpoint) *upstreamConn {
	s := l.idle[ep]
	for len(s) > 0 {
		uc := s[len(s)-1]
		s[len(s)-1] = nil
		s = s[:len(s)-1]
		idle := l.now.Sub(uc.idleSince)
		if idle > ep.idleTimeout || (uc.evSeen || idle >= peekAfterIdle) && !uc.open() {
			l.closeUp(uc)
			continue
		}
		l.idle[ep] = s
		uc.evSeen = false
		return uc
	}
	delete(l.idle, ep)
	return nil
}

// put keeps uc idle after a complete exchange when the pool has room and
// its endpoint is still in the table; else it is closed.
func (l *evLoop) put(uc *upstreamConn) {
	uc.client = nil
	ep := uc.ep
	if uc.br.Buffered() > 0 || ep.removed.Load() || len(l.idle[ep]) >= ep.maxIdle {
		l.closeUp(uc)
		return
	}
	uc.idleSince = l.now
	uc.evSeen = false
	l.idle[ep] = append(l.idle[ep], uc)
}

// sweep closes the idle connections of endpoints gone from the table and
// those idle longer than IdleTimeout (the oldest are first).
func (l *evLoop) sweep() {
	for ep, s := range l.idle {
		n := 0
		if !ep.removed.Load() {
			for n < len(s) && l.now.Sub(s[n].idleSince) > ep.idleTimeout {
				n++
			}
		} else {
			n = len(s)
		}
		for _, uc := range s[:n] {
			l.closeUp(uc)
		}
		if n == len(s) {
			delete(l.idle, ep)
		} else if n > 0 {
			l.idle[ep] = append(s[:0], s[n:]...)
		}
	}
}

// dial starts a non-blocking connection to ep; connecting reports that it
// is under way (the loop waits for it to become writable).
func (l *evLoop) dial(ep *endpoint) (uc *upstreamConn, connecting bool, err error) {
	ap := ep.ap
	family, sa := unix.AF_INET, unix.Sockaddr(nil)
	if ap.Addr().Is4() {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	} else {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, false, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", err)}
	}
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1)
	err = unix.Connect(fd, sa)
	if err == unix.EINTR {
		err = unix.EINPROGRESS
	}
	if err != nil && err != unix.EINPROGRESS {
		unix.Close(fd)
		return nil, false, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)}
	}
	if cerr := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: upstreamEvents, Fd: int32(fd)}); cerr != nil {
		unix.Close(fd)
		return nil, false, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("epoll_ctl", cerr)}
	}
	uc = &upstreamConn{ep: ep, fd: fd, rio: &rawIO{loop: true, fd: uintptr(fd), writeTimeout: ep.timeout}}
	uc.br = bufio.NewReaderSize(uc.rio, upstreamReadBuf)
	uc.aw.init(uc.rio)
	uc.bw = bufio.NewWriterSize(&uc.aw, upstreamWriteBuf)
	l.setOwner(fd, evOwner{u: uc})
	return uc, err != nil, nil
}

// closeUp closes an upstream connection the loop owns.
func (l *evLoop) closeUp(uc *upstreamConn) {
	uc.client = nil
	l.setOwner(uc.fd, evOwner{})
	unix.Close(uc.fd)
}

// close releases the loop's descriptors once it has stopped.
func (l *evLoop) close() {
	for ep, s := range l.idle {
		for _, uc := range s {
			l.closeUp(uc)
		}
		delete(l.idle, ep)
	}
	unix.Close(l.wakefd)
	l.epf.Close()
}

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
// buffers and what they hold.
func (l *evLoop) handOff(c *clientConn, mode handMode) {
	delete(l.conns, c)
	nc, err := l.release(c.ev.fd)
	var uerr error
	uc := c.ev.t.uc
	if mode == handRelay {
		var unc net.Conn
		if unc, uerr = l.release(uc.fd); uerr == nil {
			uc.conn = unc
			uc.rio.attach(unc)
			uc.client = nil
		}
	}
	if err != nil || uerr != nil {
		l.p.logf("event loop: hand a connection to a goroutine: %v", firstErr(err, uerr))
		if nc != nil {
			nc.Close()
		}
		if mode == handRelay {
			if uerr == nil {
				uc.conn.Close()
			}
			l.finishEx(c, outcome{status: 502, proxyError: true})
		}
		c.ev.loop.Store(nil)
		c.release()
		return
	}
	c.conn = nc
	c.rio.attach(nc)
	c.ev.deadline = time.Time{}
	c.ev.loop.Store(nil)
	go c.resume(mode)
}

// release takes fd out of the loop and returns its socket as a net.Conn.
func (l *evLoop) release(fd int) (net.Conn, error) {
	l.setOwner(fd, evOwner{})
	// Explicitly: the duplicate net.FileConn makes would keep it in the set.
	unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	return fdConn(fd)
}

// fdConn returns socket fd as a net.Conn (fd itself is closed).
func fdConn(fd int) (net.Conn, error) {
	f := os.NewFile(uintptr(fd), "")
	nc, err := net.FileConn(f)
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
