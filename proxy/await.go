package proxy

import (
	"net"
	"syscall"
)

// awaitWriter is the writer under an upstream connection's bufio.Writer.
// Armed, its next Write sends the request and then waits for the response
// to become readable, both inside one RawConn.Read: the poller's readiness
// is reset before the write, so the response (which can only arrive after
// the write) always raises a fresh event. The read that follows finds data
// instead of failing with EAGAIN first, as net.Conn.Read would: one system
// call saved per request. Unarmed, or when the write is partial or the
// socket is full, it behaves as net.Conn.Write.
type awaitWriter struct {
	conn  net.Conn
	raw   syscall.RawConn // nil: always a plain Write
	fn    func(fd uintptr) bool
	armed bool

	p     []byte
	n     int
	err   error
	wrote bool // fn already wrote; the next call means "readable"
}

func (w *awaitWriter) init(c net.Conn, raw syscall.RawConn) {
	w.conn, w.raw = c, raw
	if raw != nil {
		w.fn = w.writeThenWait
	}
}

func (w *awaitWriter) Write(p []byte) (int, error) {
	if !w.armed || w.raw == nil {
		return w.conn.Write(p)
	}
	w.armed = false
	w.p, w.n, w.err, w.wrote = p, 0, nil, false
	err := w.raw.Read(w.fn)
	w.p = nil
	if err == nil {
		err = w.err
	}
	if err != nil {
		return w.n, err
	}
	if w.n < len(p) { // partial or would block: finish the ordinary way
		n, err := w.conn.Write(p[w.n:])
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
		n, err := syscall.Write(int(fd), w.p)
		switch err {
		case nil:
			w.n = n
			return n < len(w.p) // all written: wait for the response
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return true
		default:
			w.err = err
			return true
		}
	}
}
