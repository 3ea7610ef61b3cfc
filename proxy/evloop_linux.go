//go:build linux

package proxy

import (
	"errors"
	"fmt"
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
// the epoll descriptor itself becomes readable, with its earliest
// deadline as the read deadline (none when nothing can time out: an idle
// loop costs nothing; see evtimer_linux.go). It holds no OS thread of its
// own while parked.
//
// A connection's state is in its clientConn (ev, req, resp and the
// buffers), moved along by events and by the loop's timers; see
// evexchange_linux.go for the request path, evaccept_linux.go for how
// connections reach the loops, evpool_linux.go for the loop's upstream
// connections, evtimer_linux.go for its deadlines, evhandoff_linux.go for
// what is handed to a goroutine and evnofd_linux.go for a hand-off without
// a descriptor to spare.
// Other goroutines reach a loop only through post (a new connection, a
// kill, the stop) and its eventfd.
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
	owners   []evOwner                     // by file descriptor
	conns    map[*clientConn]struct{}      // the client connections it serves
	idle     map[*endpoint][]*upstreamConn // idle upstream connections, most recent last
	events   []unix.EpollEvent
	n        int       // events in events, from the last drain
	waitErr  error     // the last drain's error
	parkedTo time.Time // the read deadline set on epf; zero: none
	taken    []evPost
	now      time.Time // when the last drain returned
	// Deadlines are rounded up to multiples of tick from base (see
	// evtimer_linux.go); due is at or before the earliest of them, zero
	// when none is set.
	base     time.Time
	tick     time.Duration
	due      time.Time
	sweepNow bool // SetTable removed endpoints: close their idle connections
	stop     bool
}

// evPost is work posted to a loop: a connection to serve or to kill, the
// order to sweep its idle upstream pool, or (all zero) the order to stop
// once it serves no connection.
type evPost struct {
	c     *clientConn
	kill  bool
	sweep bool
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
	p.mu.Lock()
	p.loopsStopping = true // SetTable posts to them no more
	p.mu.Unlock()
	for _, l := range p.loops {
		l.post(evPost{})
	}
	p.loopsDone.Wait()
	p.loops = nil // a second Shutdown finds none
}

// sweepLoops has every loop close its idle connections to endpoints that
// left the table. Callers hold p.mu.
func (p *Proxy) sweepLoops() {
	if p.loopsStopping {
		return
	}
	for _, l := range p.loops {
		l.post(evPost{sweep: true})
	}
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
		base:   time.Now(),
		tick:   tick,
	}
	l.parkFn = l.park
	return l, nil
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
	if len(l.conns) == 0 && len(l.idle) == 0 {
		l.due = time.Time{} // nothing to time out: an idle loop parks until posted to
	}
	if due := l.due; !due.Equal(l.parkedTo) {
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
		if l.sweepNow {
			l.sweepNow = false
			l.sweep()
		}
		if !l.due.IsZero() && !l.now.Before(l.due) {
			l.expire()
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
		case e.sweep:
			l.sweepNow = true
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
