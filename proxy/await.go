package proxy

import (
	"errors"
	"os"
	"syscall"
	"unsafe"
)

// awaitWriter is the writer under an upstream connection's bufio.Writer.
// Armed, its next Write sends the request and then waits for the response
// to become readable, both inside one RawConn.Read: the poller's readiness
// is reset before the write, so the response (which can only arrive after
// the write) always raises a fresh event. The read that follows finds data
// instead of failing with EAGAIN first, as net.Conn.Read would: one system
// call saved per request. Unarmed, or when the write is partial or the
// socket is full, it is a plain write.
type awaitWriter struct {
	rio   *rawIO
	fn    func(fd uintptr) bool
	armed bool

	p     []byte
	n     int
	err   error
	wrote bool // fn already wrote; the next call means "readable"
}

func (w *awaitWriter) init(rio *rawIO) {
	w.rio = rio
	w.fn = w.writeThenWait
}

func (w *awaitWriter) Write(p []byte) (int, error) {
	if !w.armed || w.rio.raw == nil {
		return w.rio.Write(p)
	}
	w.armed = false
	w.p, w.n, w.err, w.wrote = p, 0, nil, false
	w.rio.armRead()
	err := w.rio.raw.Read(w.fn)
	w.p = nil
	if err == nil {
		err = w.err
	}
	if err != nil && !(w.wrote && w.n == len(p) && errors.Is(err, os.ErrDeadlineExceeded)) {
		return w.n, err
	}
	// All written: a wait cut short by the read deadline is the reader's
	// business (it times out or waits again).
	if w.n < len(p) { // partial or would block: finish the ordinary way
		n, err := w.rio.Write(p[w.n:])
		return w.n + n, err
	}
	return w.n, nil
}

func (w *awaitWriter) writeThenWait(fd uintptr) bool {
	if w.wrote {
		return true // readable
	}
	w.wrote = true
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&w.p[0])), uintptr(len(w.p)))
		switch errno {
		case 0:
			w.n = int(n)
			return w.n < len(w.p) // all written: wait for the response
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return true
		default:
			w.err = errno
			return true
		}
	}
}
