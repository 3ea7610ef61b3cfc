//go:build linux

package proxy

import (
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

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
			if nc, err := fdConn(fd, func(fd int) { answerRaw(fd, connLimitResponse) }); err == nil {
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
