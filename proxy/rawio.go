package proxy

import (
	"errors"
	"io"
	"net"
	"syscall"
	"time"
	"unsafe"
)

// rawIO reads and writes a non-blocking socket with raw system calls
// through its RawConn, waiting on Go's poller only when the socket is not
// ready. A raw call skips the runtime's entersyscall/exitsyscall, and with
// it the hand-off of the processor to another thread that the runtime
// performs when a system call seems slow, which on a busy machine costs a
// thread wake-up and context switch per request. The calls never block: the
// socket is non-blocking, so the worst case is a short write.
//
// rawIO also keeps the connection's deadlines: before each read and write
// it moves the deadline to now plus the current timeout, lazily (only when
// the deadline set is off by more than an eighth of the timeout), so a
// timeout is enforced within 1/8 of its value and the request path rarely
// touches the runtime's timers. A connection without a file descriptor
// (raw == nil) is read and written through its own methods, with the same
// deadlines.
type rawIO struct {
	conn net.Conn
	raw  syscall.RawConn // nil: use conn's Read and Write
	rfn  func(fd uintptr) bool
	wfn  func(fd uintptr) bool
	pfn  func(fd uintptr)

	// readTimeout and writeTimeout bound each wait for the socket; zero:
	// none. readBy, when set, is an absolute read deadline that overrides
	// readTimeout (a whole request head must arrive by then).
	readTimeout, writeTimeout time.Duration
	readBy                    time.Time
	readDL, writeDL           time.Time // the deadlines currently set

	// inRound is set while the connection's own code runs inside a
	// RawConn.Read round of fd (see clientConn.serveRounds): Read then
	// makes one raw read and returns errWouldBlock instead of waiting.
	// drained reports whether the last such read left the socket empty.
	inRound bool
	fd      uintptr
	drained bool

	// loop is set while an event loop owns the socket fd (evloop_linux.go):
	// Read makes one raw read and returns errWouldBlock instead of waiting,
	// deadlines are the loop's, and Write writes what the socket takes and
	// keeps the rest in pending for the loop (or the goroutine it hands the
	// connection to) to write when the socket drains.
	loop    bool
	pending []byte

	// The state of the read and of the write under way (one of each may
	// run at once, in a tunnel).
	rp, wp     []byte
	rn, wn     int
	rerr, werr error
	peeked     peerState
}

// newRawIO returns a rawIO for c.
func newRawIO(c net.Conn) *rawIO {
	r := &rawIO{}
	r.attach(c)
	return r
}

// attach makes r read and write c, through Go's poller, keeping its
// timeouts and what is pending (an event loop hands its socket to a
// goroutine as c).
func (r *rawIO) attach(c net.Conn) {
	r.conn, r.raw, r.loop, r.inRound = c, nil, false, false
	r.readDL, r.writeDL, r.readBy = time.Time{}, time.Time{}, time.Time{}
	if sc, ok := c.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			r.raw = raw
			r.rfn, r.wfn, r.pfn = r.read, r.write, r.peekFD
		}
	}
}

// armRead sets the read deadline the current timeout asks for.
func (r *rawIO) armRead() {
	if want, ok := nextDeadline(r.readDL, r.readBy, r.readTimeout); ok {
		r.readDL = want
		r.conn.SetReadDeadline(want)
	}
}

func (r *rawIO) armWrite() {
	if want, ok := nextDeadline(r.writeDL, time.Time{}, r.writeTimeout); ok {
		r.writeDL = want
		r.conn.SetWriteDeadline(want)
	}
}

// nextDeadline returns the deadline to set in place of cur, and whether it
// differs enough from cur to be worth setting: by, if set; else now plus
// timeout, or none for a zero timeout.
func nextDeadline(cur, by time.Time, timeout time.Duration) (time.Time, bool) {
	switch {
	case !by.IsZero():
		return by, !by.Equal(cur)
	case timeout <= 0:
		return time.Time{}, !cur.IsZero()
	}
	want := time.Now().Add(timeout)
	slack := timeout / 8
	d := want.Sub(cur)
	return want, cur.IsZero() || d > slack || d < -slack
}

// Read reads into p once data is available.
func (r *rawIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if r.loop {
		return r.readInRound(p)
	}
	r.armRead()
	if r.raw == nil {
		return r.conn.Read(p)
	}
	if r.inRound {
		return r.readInRound(p)
	}
	r.rp, r.rn, r.rerr = p, 0, nil
	err := r.raw.Read(r.rfn)
	r.rp = nil
	if err != nil {
		return 0, err
	}
	if r.rerr != nil {
		return 0, r.rerr
	}
	if r.rn == 0 {
		return 0, io.EOF
	}
	return r.rn, nil
}

// errWouldBlock is what Read returns in a round when the socket has
// nothing to read: the round's owner waits for it to become readable.
var errWouldBlock = errors.New("read would block")

// readInRound reads p once from the socket without waiting.
func (r *rawIO) readInRound(p []byte) (int, error) {
	r.rp, r.rn, r.rerr = p, 0, nil
	ready := r.read(r.fd)
	r.rp = nil
	switch {
	case !ready:
		r.drained = true
		return 0, errWouldBlock
	case r.rerr != nil:
		return 0, r.rerr
	case r.rn == 0:
		return 0, io.EOF
	}
	// A stream socket's read returns less than asked only when its queue
	// is empty.
	r.drained = r.rn < len(p)
	return r.rn, nil
}

func (r *rawIO) read(fd uintptr) bool {
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&r.rp[0])), uintptr(len(r.rp)))
		switch errno {
		case 0:
			r.rn = int(n)
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		default:
			r.rerr = errno
		}
		return true
	}
}

// Write writes all of p, waiting for the socket to drain when it is full.
func (r *rawIO) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if r.loop {
		return r.writeOrKeep(p)
	}
	r.armWrite()
	if r.raw == nil {
		return r.conn.Write(p)
	}
	r.wp, r.wn, r.werr = p, 0, nil
	err := r.raw.Write(r.wfn)
	r.wp = nil
	if err == nil {
		err = r.werr
	}
	return r.wn, err
}

func (r *rawIO) write(fd uintptr) bool {
	for r.wn < len(r.wp) {
		rest := r.wp[r.wn:]
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&rest[0])), uintptr(len(rest)))
		switch errno {
		case 0:
			r.wn += int(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			r.werr = errno
			return true
		}
	}
	return true
}

// peerState is what a peek at a connection found.
type peerState uint8

const (
	peerQuiet  peerState = iota // open, nothing to read
	peerSent                    // open, with bytes to read
	peerClosed                  // closed or reset by the peer
)

// peek looks at the connection without waiting, consuming anything, or
// heeding deadlines. Without a file descriptor it reports peerQuiet.
func (r *rawIO) peek() peerState {
	if r.loop {
		return peekState(r.fd)
	}
	if r.raw == nil {
		return peerQuiet
	}
	r.peeked = peerQuiet
	r.raw.Control(r.pfn)
	return r.peeked
}

func (r *rawIO) peekFD(fd uintptr) { r.peeked = peekState(fd) }

// writeOrKeep writes what of p the socket takes now, without waiting, and
// appends the rest to r.pending; once something is pending, everything
// after it is appended too. It fails only when the socket does.
func (r *rawIO) writeOrKeep(p []byte) (int, error) {
	rest := p
	if len(r.pending) == 0 {
		r.wp, r.wn, r.werr = p, 0, nil
		r.write(r.fd)
		rest = p[r.wn:]
		r.wp = nil
		if r.werr != nil {
			return r.wn, r.werr
		}
	}
	r.pending = append(r.pending, rest...)
	return len(p), nil
}

// flushPending writes what writeOrKeep kept, without waiting. It reports
// whether everything was written.
func (r *rawIO) flushPending() (bool, error) {
	if len(r.pending) == 0 {
		return true, nil
	}
	r.wp, r.wn, r.werr = r.pending, 0, nil
	r.write(r.fd)
	n := copy(r.pending, r.pending[r.wn:])
	r.pending = r.pending[:n]
	r.wp = nil
	return n == 0, r.werr
}
