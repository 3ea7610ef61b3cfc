package sample

import (
	"bufio"
	"fmt"
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

// TestMain lets the test binary run as the sample workload, so signal
// handling is tested on a real process.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("GANTRY_SAMPLE_ARGS"); ok {
		if err := Main(strings.Split(args, "\x1f")); err != nil {
			fmt.Fprintln(os.Stderr, "gantry-sample:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startProcess runs the sample as a child process and waits until it serves.
func startProcess(t *testing.T, args ...string) (*exec.Cmd, string, *bufio.Scanner) {
	t.Helper()
	port := freePort(t)
	args = append([]string{"--port", fmt.Sprint(port)}, args...)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "GANTRY_SAMPLE_ARGS="+strings.Join(args, "\x1f"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || !strings.Contains(lines.Text(), "started") {
		t.Fatalf("first log line %q, want a start line", lines.Text())
	}
	return cmd, fmt.Sprintf("http://127.0.0.1:%d", port), lines
}

func TestMain_GracefulSIGTERM(t *testing.T) {
	cmd, url, lines := startProcess(t, "--version", "v4+latency=1s")
	type result struct {
		code int
		body string
		err  error
	}
	inflight := make(chan result, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			inflight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		inflight <- result{resp.StatusCode, string(b), err}
	}()
	// Wait until the request is in flight: the server has accepted it.
	deadline := time.Now().Add(time.Minute)
	for !hasEstablished(t, cmd.Process.Pid) {
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the server")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	got := <-inflight
	if got.err != nil || got.code != http.StatusOK || !strings.Contains(got.body, `"version":"v4"`) {
		t.Errorf("in-flight request = %d %q %v, want 200 from v4", got.code, got.body, got.err)
	}
	if !lines.Scan() || !strings.Contains(lines.Text(), "stopped") {
		t.Errorf("last log line %q, want a stop line", lines.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v, want status 0", err)
	}
	if _, err := http.Get(url + "/"); err == nil {
		t.Error("still accepting after the graceful stop")
	}
}

func TestMain_CrashAtStart(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "GANTRY_SAMPLE_ARGS=--port\x1f1\x1f--crash-at-start")
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("exit = %v, want status 1", err)
	}
}

// hasEstablished reports whether process pid has an accepted TCP connection,
// from its socket inodes and /proc/net/tcp.
func hasEstablished(t *testing.T, pid int) bool {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 9 && f[3] == "01" && inodes[f[9]] { // 01: ESTABLISHED
			return true
		}
	}
	return false
}
