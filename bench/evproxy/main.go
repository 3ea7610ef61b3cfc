//go:build linux

// Command evproxy is a prototype for measurements, not a proxy to use: an
// HTTP/1.1 keep-alive reverse proxy with one event loop per core (a
// goroutine locked to its OS thread doing its own epoll_wait on its own
// SO_REUSEPORT listener, level-triggered), like nginx's workers, splitting
// requests 95/5 between two upstreams. It handles only well-formed requests
// without bodies and responses with a Content-Length, validates nothing,
// keeps no timeouts and no metrics: it shows what the event-loop
// architecture alone gives on this machine (bench/proxy.sh EVPROXY=1; see
// bench/README.md).
//
//	evproxy -stable 127.0.0.1:9001 -canary 127.0.0.1:9002 [-loops N] [-extra-read]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

type conn struct {
	fd       int
	upstream bool
	buf      []byte
	n        int
	peer     *conn // client: upstream in use; upstream: its client
	pool     int   // upstream: index of its endpoint
	out      []byte
}

type loop struct {
	ep    int
	lfd   int
	conns map[int]*conn
	idle  [2][]*conn
	addrs [2]unix.SockaddrInet4
	seq   int
	wbuf  []byte
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen")
	stable := flag.String("stable", "", "")
	canary := flag.String("canary", "", "")
	loops := flag.Int("loops", runtime.NumCPU(), "event loops")
	flag.Parse()
	runtime.GOMAXPROCS(*loops)
	ups := [2]unix.SockaddrInet4{sa(*stable), sa(*canary)}
	port := 0
	host := strings.Split(*addr, ":")[0]
	if p := strings.Split(*addr, ":")[1]; p != "0" {
		port, _ = strconv.Atoi(p)
	}
	var lfds []int
	for i := 0; i < *loops; i++ {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		check(err)
		check(unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1))
		a := sa(fmt.Sprintf("%s:%d", host, port))
		check(unix.Bind(fd, &a))
		check(unix.Listen(fd, 4096))
		if port == 0 {
			s, _ := unix.Getsockname(fd)
			port = s.(*unix.SockaddrInet4).Port
		}
		lfds = append(lfds, fd)
	}
	fmt.Printf("%s:%d\n", host, port)
	for _, lfd := range lfds[1:] {
		l := &loop{lfd: lfd, conns: map[int]*conn{}, addrs: ups}
		go l.run()
	}
	(&loop{lfd: lfds[0], conns: map[int]*conn{}, addrs: ups}).run() // until killed
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "evproxy:", err)
		os.Exit(1)
	}
}

func sa(hp string) unix.SockaddrInet4 {
	ta, err := net.ResolveTCPAddr("tcp4", hp)
	check(err)
	var s unix.SockaddrInet4
	s.Port = ta.Port
	copy(s.Addr[:], ta.IP.To4())
	return s
}

func (l *loop) run() {
	runtime.LockOSThread()
	l.ep, _ = unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	unix.EpollCtl(l.ep, unix.EPOLL_CTL_ADD, l.lfd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(l.lfd)})
	evs := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(l.ep, evs, -1)
		if err != nil {
			continue
		}
		for i := 0; i < n; i++ {
			fd := int(evs[i].Fd)
			if fd == l.lfd {
				l.accept()
				continue
			}
			if c := l.conns[fd]; c != nil {
				l.readable(c)
			}
		}
	}
}

func (l *loop) accept() {
	for {
		fd, _, err := unix.Accept4(l.lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			return
		}
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		c := &conn{fd: fd, buf: make([]byte, 8192)}
		l.conns[fd] = c
		unix.EpollCtl(l.ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)})
	}
}

func (l *loop) close(c *conn) {
	delete(l.conns, c.fd)
	unix.Close(c.fd)
	if p := c.peer; p != nil {
		p.peer = nil
		delete(l.conns, p.fd)
		unix.Close(p.fd)
	}
}

func (l *loop) readable(c *conn) {
	n, err := unix.Read(c.fd, c.buf[c.n:])
	if err == unix.EAGAIN {
		return
	}
	if n <= 0 {
		l.close(c)
		return
	}
	c.n += n
	if c.upstream {
		l.response(c)
	} else if c.peer == nil {
		l.request(c)
	}
}

var xff = []byte("X-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n")

func (l *loop) request(c *conn) {
	end := bytes.Index(c.buf[:c.n], []byte("\r\n\r\n"))
	if end < 0 {
		return
	}
	u := l.upstreamConn()
	if u == nil {
		l.close(c)
		return
	}
	c.peer, u.peer = u, c
	w := append(l.wbuf[:0], c.buf[:end+2]...)
	w = append(w, xff...)
	l.wbuf = w
	copy(c.buf, c.buf[end+4:c.n])
	c.n -= end + 4
	if _, err := unix.Write(u.fd, w); err != nil {
		l.close(c)
	}
}

func (l *loop) upstreamConn() *conn {
	l.seq++
	i := 0
	if l.seq%20 == 0 {
		i = 1
	}
	if k := len(l.idle[i]); k > 0 {
		u := l.idle[i][k-1]
		l.idle[i] = l.idle[i][:k-1]
		return u
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	a := l.addrs[i]
	if err := unix.Connect(fd, &a); err != nil {
		unix.Close(fd)
		return nil
	}
	unix.SetNonblock(fd, true)
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	u := &conn{fd: fd, upstream: true, buf: make([]byte, 16384), pool: i}
	l.conns[fd] = u
	unix.EpollCtl(l.ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)})
	return u
}

var clen = []byte("\r\nContent-Length:")

func (l *loop) response(u *conn) {
	b := u.buf[:u.n]
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return
	}
	i := bytes.Index(b[:end], clen)
	if i < 0 {
		l.close(u)
		return
	}
	j := bytes.IndexByte(b[i+len(clen):], '\r')
	cl, _ := strconv.Atoi(strings.TrimSpace(string(b[i+len(clen) : i+len(clen)+j])))
	total := end + 4 + cl
	if u.n < total {
		return
	}
	c := u.peer
	u.peer, u.n = nil, 0
	l.idle[u.pool] = append(l.idle[u.pool], u)
	if c == nil {
		return
	}
	c.peer = nil
	if _, err := unix.Write(c.fd, b[:total]); err != nil {
		l.close(c)
		return
	}
	if c.n == 0 && *extraRead {
		if n, _ := unix.Read(c.fd, c.buf); n > 0 {
			c.n = n
		}
	}
	if c.n > 0 {
		l.request(c)
	}
}

var extraRead = flag.Bool("extra-read", false, "read the client once more after each response, as gantry's proxy does (mostly EAGAIN)")
