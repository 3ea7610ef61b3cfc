//go:build linux

package proxy

import (
	"time"

	"golang.org/x/sys/unix"
)

// When the process is out of file descriptors, a loop cannot hand a
// connection to a goroutine (net.FileConn needs a duplicate descriptor).
// It then answers on the raw socket itself, as far as the socket takes the
// answer at once, and closes it.

// outOfDescriptorsResponse is the loop's answer to a request it could not
// hand to a goroutine: the 503 head the goroutine path writes, closing.
var outOfDescriptorsResponse = closingErrorResponse(503, "proxy overloaded, retry\n")

// handOffOutcome is how a request answered outOfDescriptorsResponse is
// counted, as the goroutine path counts the 503s it produces.
var handOffOutcome = outcome{status: 503, proxyError: true}

// handOffFailed answers c on its raw socket fd, which could not be handed
// to a goroutine for mode, and reports whether the answer went out whole:
// what was pending, then a 503 for a request not yet answered (forward or
// relay; a response already begun is only finished if it can be).
func (l *evLoop) handOffFailed(c *clientConn, mode handMode, fd int) bool {
	out := c.rio.pending
	if mode == handForward || mode == handRelay {
		out = append(out, outOfDescriptorsResponse...)
	}
	return answerRaw(fd, out)
}

// countHandOffFailed counts the exchange of c, which ended with
// handOffFailed (answered reports what it returned), as the goroutine path
// would have counted it.
func (l *evLoop) countHandOffFailed(c *clientConn, mode handMode, answered bool) {
	ex := &c.ev
	o := handOffOutcome
	if !answered {
		o = outcome{clientClosed: true}
	}
	switch mode {
	case handForward: // not routed yet: no revision took it
		ex.preTried, ex.preErr = nil, nil
		l.p.noRoute.record(o, time.Since(ex.start))
	case handRelay:
		l.finishEx(c, o)
	case handRest:
		if answered {
			o = ex.o // the rest of the response went out
		}
		l.finishEx(c, o)
	}
}

// answerRaw writes b to the non-blocking socket fd as far as it takes it
// at once, ends the sending side, and reads what the client already sent
// (up to 64 KiB), so that closing fd does not reset the connection before
// the client reads the answer. It reports whether b went out whole.
func answerRaw(fd int, b []byte) bool {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			break
		}
		b = b[n:]
	}
	unix.Shutdown(fd, unix.SHUT_WR)
	var buf [512]byte
	for range 128 {
		n, err := unix.Read(fd, buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			break
		}
	}
	return len(b) == 0
}
