package proxy

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// rawIO reads and writes a non-blocking socket with raw system calls
// through its RawConn, waiting on Go's poller only when the socket is not
// ready. A raw call skips the runtime's entersyscall/exitsyscall, and with
// it the hand-off of the processor to another thread that the runtime
// performs when a system call seems slow, which on a busy machine costs a
// thread wake-up and context switch per request. The calls never block: the
// socket is non-blocking, so the worst case is a short write.
type rawIO struct {
	conn net.Conn
	raw  syscall.RawConn
	rfn  func(fd uintptr) bool
	wfn  func(fd uintptr) bool

	p   []byte
	n   int
	err error
}

// newRawIO returns a rawIO for c, or nil when c has no file descriptor.
func newRawIO(c net.Conn) *rawIO {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &rawIO{conn: c, raw: raw}
	r.rfn, r.wfn = r.read, r.write
	return r
}

// Read reads into p once data is available.
func (r *rawIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.p, r.n, r.err = p, 0, nil
	err := r.raw.Read(r.rfn)
	r.p = nil
	if err != nil {
		return 0, err
	}
	if r.err != nil {
		return 0, r.err
	}
	if r.n == 0 {
		return 0, io.EOF
	}
	return r.n, nil
}

func (r *rawIO) read(fd uintptr) bool {
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&r.p[0])), uintptr(len(r.p)))
		switch errno {
		case 0:
			r.n = int(n)
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		default:
			r.err = errno
		}
		return true
	}
}

// Write writes all of p, waiting for the socket to drain when it is full.
func (r *rawIO) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.p, r.n, r.err = p, 0, nil
	err := r.raw.Write(r.wfn)
	r.p = nil
	if err == nil {
		err = r.err
	}
	return r.n, err
}

func (r *rawIO) write(fd uintptr) bool {
	for r.n < len(r.p) {
		rest := r.p[r.n:]
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&rest[0])), uintptr(len(rest)))
		switch errno {
		case 0:
			r.n += int(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			r.err = errno
			return true
		}
	}
	return true
}
