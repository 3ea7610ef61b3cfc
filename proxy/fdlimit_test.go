package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestProxy_OutOfFileDescriptors runs the proxy (and its upstream) in a
// child process with a low open-file limit; the clients, in this process,
// keep connecting and leaving their connections idle until the proxy runs
// out of descriptors. The proxy, failing to accept (EMFILE), closes idle
// keep-alive connections to make room, so every client is served instead
// of left waiting. (The clients are in another process so that their own
// sockets do not count against the proxy's limit.)
func TestProxy_OutOfFileDescriptors(t *testing.T) {
	if os.Getenv("GANTRY_PROXY_FD_CHILD") == "1" {
		outOfFileDescriptors(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProxy_OutOfFileDescriptors$", "-test.v")
	cmd.Env = append(os.Environ(), "GANTRY_PROXY_FD_CHILD=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	out := bufio.NewReader(stdout)
	var addr string
	var lines []string
	for addr == "" {
		line, err := out.ReadString('\n')
		lines = append(lines, line)
		if err != nil {
			cmd.Wait()
			if s := strings.Join(lines, ""); strings.Contains(s, "--- SKIP") {
				t.Skipf("child skipped:\n%s", s)
			}
			t.Fatalf("child gave no address: %v\n%s%s", err, strings.Join(lines, ""), stderr.String())
		}
		addr, _ = strings.CutPrefix(strings.TrimSpace(line), "proxy at ")
		if addr == strings.TrimSpace(line) {
			addr = ""
		}
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	const clients = 200
	served := 0
	for i := range clients {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(20 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if got := readStatus(t, bufio.NewReader(c)); got != 200 {
			stdin.Close()
			rest, _ := io.ReadAll(out)
			cmd.Wait()
			t.Fatalf("client %d (%d open): status %d, want 200; the proxy's process:\n%s%s", i, len(conns), got, rest, stderr.String())
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
	stdin.Close()
	rest, _ := io.ReadAll(out)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the proxy's process: %v\n%s%s", err, rest, stderr.String())
	}
}

// outOfFileDescriptors is the child's part: a proxy with little room for
// descriptors, serving until its standard input closes.
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
	fmt.Printf("proxy at %s\n", p.Addr())
	io.Copy(io.Discard, os.Stdin)
}
