//go:build linux

package proxy

import (
	"bufio"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

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
	l.poolExpiry(uc)
}

// sweep closes the idle connections of endpoints gone from the table and
// those idle for IdleTimeout (the oldest are first), and folds the expiry
// of the oldest left into l.due.
func (l *evLoop) sweep() {
	for ep, s := range l.idle {
		n := 0
		if !ep.removed.Load() {
			for n < len(s) && l.now.Sub(s[n].idleSince) >= ep.idleTimeout {
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
			continue
		}
		if n > 0 {
			s = append(s[:0], s[n:]...)
			l.idle[ep] = s
		}
		l.poolExpiry(s[0])
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
