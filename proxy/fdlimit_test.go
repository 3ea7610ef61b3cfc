package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestProxy_OutOfFileDescriptors runs itself in a child process with a low
// open-file limit: clients keep connecting and leaving their connections
// idle until the process runs out of descriptors. The proxy, failing to
// accept (EMFILE), closes idle keep-alive connections to make room, so
// every client that could connect is served instead of left waiting.
func TestProxy_OutOfFileDescriptors(t *testing.T) {
	if os.Getenv("GANTRY_PROXY_FD_CHILD") == "1" {
		outOfFileDescriptors(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProxy_OutOfFileDescriptors$", "-test.v")
	cmd.Env = append(os.Environ(), "GANTRY_PROXY_FD_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func outOfFileDescriptors(t *testing.T) {
	up := startRaw(t, fixedResponder("ok"))
	p := startProxy(t, Options{MaxConns: 1 << 20, Logf: func(string, ...any) {}})
	p.SetTable(table(rev(1, 100, up.addr())))
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	lim := syscall.Rlimit{Cur: uint64(len(fds) + 60), Max: uint64(len(fds) + 60)}
	var old syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old)
	if lim.Cur > old.Cur {
		t.Skip("open-file limit already low")
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	served := 0
	for i := 0; i < 200; i++ {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			if errors.Is(err, syscall.EMFILE) && served > 0 {
				break // the client side ran out; enough
			}
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(20 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if got := readStatus(t, bufio.NewReader(c)); got != 200 {
			t.Fatalf("client %d (%d open): status %d, want 200", i, len(conns), got)
		}
		served++
	}
	// Some of the idle connections were closed to make room.
	reclaimed := 0
	for _, c := range conns[:len(conns)/2] {
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err == io.EOF {
			reclaimed++
		}
	}
	if reclaimed == 0 {
		t.Errorf("%d clients served and none of the first half was reclaimed; the limit was never reached", served)
	}
	t.Logf("%d clients served, %d idle connections reclaimed", served, reclaimed)
}
