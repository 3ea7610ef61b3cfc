//go:build linux

package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestProxy_HandOffOutOfFileDescriptors: an event loop that must hand a
// connection to a goroutine (a request with a body; a GET whose upstream
// connection cannot be made) while the process has no file descriptor
// left for the duplicate answers 503 on the raw socket, closing, and counts
// it, instead of closing the connection without an answer. The proxy runs
// in a child process whose open-file limit is used up, all but the two
// descriptors that one client connection takes on both ends.
func TestProxy_HandOffOutOfFileDescriptors(t *testing.T) {
	if os.Getenv("GANTRY_PROXY_HANDOFF_FD_CHILD") == "1" {
		handOffOutOfFileDescriptors(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProxy_HandOffOutOfFileDescriptors$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "GANTRY_PROXY_HANDOFF_FD_CHILD=1")
	out, err := cmd.CombinedOutput()
	if strings.Contains(string(out), "--- SKIP") {
		t.Skipf("child skipped:\n%s", out)
	}
	if err != nil {
		t.Fatalf("the proxy's process: %v\n%s", err, out)
	}
}

// handOffOutOfFileDescriptors is the child's part.
func handOffOutOfFileDescriptors(t *testing.T) {
	up := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}))
	p := startProxy(t, Options{Logf: func(string, ...any) {}})
	if len(p.loops) == 0 {
		t.Skip("no event loops")
	}
	p.SetTable(table(rev(1, 100, up)))
	// Served once first, so that the accept loop holds its copy of the
	// listening socket (a body: by a goroutine, leaving no upstream
	// connection in a loop's pool).
	if got := rawExchange(t, p.Addr(), "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"); !strings.HasPrefix(got, "HTTP/1.1 200") {
		t.Fatalf("first request: %q, want 200", got)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	lim := syscall.Rlimit{Cur: uint64(len(fds) + 64), Max: uint64(len(fds) + 64)}
	var old syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old)
	if lim.Cur > old.Cur {
		t.Skip("open-file limit already low")
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("setrlimit: %v", err)
	}

	for i, req := range []string{
		"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi",
		"GET /b HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		fill := useUpDescriptors(t, 2)
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		c.SetDeadline(time.Now().Add(20 * time.Second))
		io.WriteString(c, req)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%q with no descriptor left: %v, want a 503 answer", req, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 503 || !resp.Close || resp.Header.Get("Retry-After") != "1" || len(body) == 0 {
			t.Errorf("%q with no descriptor left: %d, Connection: close %v, Retry-After %q, body %q; want 503, closing, Retry-After 1, a body",
				req, resp.StatusCode, resp.Close, resp.Header.Get("Retry-After"), body)
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Errorf("%q with no descriptor left: after the answer %v, want EOF", req, err)
		}
		c.Close()
		for _, f := range fill {
			f.Close()
		}
		eventually(t, "the 503 counted", func() bool { return statsOf(p, 0).ProxyErrors == uint64(i+1) })
	}

	// With descriptors again, requests are served.
	if got := rawExchange(t, p.Addr(), "POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"); !strings.HasPrefix(got, "HTTP/1.1 200") {
		t.Errorf("once descriptors are free: %q, want 200", got)
	}
}

// useUpDescriptors opens /dev/null until the process is out of file
// descriptors, then closes keep of them, and returns the others.
func useUpDescriptors(t *testing.T, keep int) []*os.File {
	t.Helper()
	var fill []*os.File
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			if !errors.Is(err, syscall.EMFILE) {
				t.Fatalf("open %s: %v", os.DevNull, err)
			}
			break
		}
		fill = append(fill, f)
	}
	if len(fill) < keep {
		t.Fatalf("only %d descriptors to use up", len(fill))
	}
	for _, f := range fill[len(fill)-keep:] {
		f.Close()
	}
	return fill[:len(fill)-keep]
}
