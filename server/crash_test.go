package server_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/rollout"
)

// serverProc is `gantry server` running as its own process.
type serverProc struct {
	cmd   *exec.Cmd
	url   string
	token string // the admin token it bootstrapped in its data directory
}

var apiLine = regexp.MustCompile(`API on (http://\S+),`)

func startServerProc(t *testing.T, dataDir, listen string, extra ...string) *serverProc {
	t.Helper()
	args := append([]string{"server", "--data", dataDir, "--listen", listen}, extra...)
	cmd := exec.Command(gantryBin, args...)
	cmd.Stderr = &testLogWriter{t: t, prefix: "server: "}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := apiLine.FindStringSubmatch(sc.Text()); m != nil {
			go func() {
				for sc.Scan() {
				}
			}()
			return &serverProc{cmd: cmd, url: m[1], token: readAdminToken(t, dataDir)}
		}
	}
	t.Fatalf("gantry server exited before printing its API address: %v", sc.Err())
	return nil
}

type testLogWriter struct {
	t      *testing.T
	prefix string
}

func (w *testLogWriter) Write(b []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		w.t.Log(w.prefix + line)
	}
	return len(b), nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func alive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil && !isZombie(pid)
}

func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// instanceProcesses finds every live process whose environment marks it as
// an instance started with this data directory's binary.
func instanceProcesses(t *testing.T) map[int]string {
	t.Helper()
	out := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if !bytes.HasPrefix(cmdline, []byte(gantryBin+"\x00sample")) {
			continue
		}
		environ, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		for _, kv := range bytes.Split(environ, []byte{0}) {
			if v, ok := bytes.CutPrefix(kv, []byte("GANTRY_INSTANCE=")); ok {
				out[pid] = string(v)
			}
		}
	}
	return out
}

// TestServer_Kill9MidRolloutResumes kills `gantry server` with SIGKILL in
// the middle of a rolling update, starts it again on the same data, and
// checks the rollout finishes, the surviving instances were adopted rather
// than restarted, and no instance process is left over.
func TestServer_Kill9MidRolloutResumes(t *testing.T) {
	data := t.TempDir()
	listen := freeAddr(t)
	proxyAddr := freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	a := startServerProc(t, data, listen)
	c, err := client.New(client.Options{Server: a.url, Token: a.token})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, "gantry.yaml", []byte(appSpec(proxyAddr, 120))); err != nil {
		t.Fatal(err)
	}
	r, err := c.Deploy(ctx, "web", "prod", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if r, err = c.WaitRollout(ctx, r.ID, 100*time.Millisecond, nil); err != nil || r.Phase != rollout.Succeeded {
		t.Fatalf("v1: %v %s", err, r.Phase)
	}
	// Each v2 instance takes 2 s to become ready, so the update takes a while.
	r, err = c.Deploy(ctx, "web", "prod", "v2+slow-start=2s")
	if err != nil {
		t.Fatal(err)
	}
	before := waitMidway(ctx, t, c)
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.cmd.Wait()
	survivors := map[string]int{}
	for _, in := range before {
		if in.State != rollout.Terminating && alive(in.PID) {
			survivors[in.ID] = in.PID
		}
	}
	if len(survivors) == 0 {
		t.Fatalf("no instance survived the server's SIGKILL: %+v", before)
	}
	t.Logf("killed the server mid-rollout; %d instance(s) still running: %v", len(survivors), survivors)

	b := startServerProc(t, data, listen, "--stop-instances-on-exit")
	c, _ = client.New(client.Options{Server: b.url, Token: b.token})
	if r, err = c.WaitRollout(ctx, r.ID, 100*time.Millisecond, nil); err != nil {
		t.Fatalf("rollout after restart: %v", err)
	}
	if r.Phase != rollout.Succeeded {
		t.Fatalf("rollout after restart = %s %s: %s", r.Phase, r.Reason, r.Message)
	}
	// Let the last old instance finish stopping.
	var st = mustStatus(ctx, t, c)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && countInstances(st) != 3; {
		time.Sleep(100 * time.Millisecond)
		st = mustStatus(ctx, t, c)
	}
	now := map[string]int{}
	for _, rs := range st.Revisions {
		for _, in := range rs.Instances {
			if in.Revision != 2 || !in.Ready {
				t.Errorf("after the rollout: instance %s revision %d ready %v, want revision 2 ready", in.ID, in.Revision, in.Ready)
			}
			now[in.ID] = in.PID
		}
	}
	if len(now) != 3 {
		t.Fatalf("%d instances after the rollout, want 3: %v", len(now), now)
	}
	for id, pid := range survivors {
		if p, ok := now[id]; ok && p != pid {
			t.Errorf("instance %s was restarted (pid %d -> %d) instead of adopted", id, pid, p)
		}
		if _, ok := now[id]; !ok && alive(pid) {
			t.Errorf("instance %s (pid %d) is neither adopted nor stopped", id, pid)
		}
	}
	adopted := 0
	for id := range survivors {
		if _, ok := now[id]; ok {
			adopted++
		}
	}
	if adopted == 0 {
		t.Errorf("no surviving v2 instance was adopted: survivors %v, now %v", survivors, now)
	}
	for pid, id := range instanceProcesses(t) {
		if now[id] != pid {
			t.Errorf("orphan instance process %d (%s) runs outside gantry's view", pid, id)
		}
	}

	// A clean stop with --stop-instances-on-exit leaves nothing behind.
	b.cmd.Process.Signal(syscall.SIGTERM)
	if err := b.cmd.Wait(); err != nil {
		t.Errorf("server exit: %v", err)
	}
	for id, pid := range now {
		if alive(pid) {
			t.Errorf("instance %s (pid %d) still runs after the server stopped", id, pid)
		}
	}
}

func mustStatus(ctx context.Context, t *testing.T, c *client.Client) (st statusView) {
	t.Helper()
	s, err := c.Status(ctx, "web", "prod")
	if err != nil {
		t.Fatal(err)
	}
	return statusView(s)
}

func countInstances(st statusView) int {
	n := 0
	for _, rs := range st.Revisions {
		n += len(rs.Instances)
	}
	return n
}

type statusView = api.Status

// waitMidway waits until web/prod's rolling update from revision 1 has a
// ready instance of the new revision while revision 1 still runs, and
// returns every instance then.
func waitMidway(ctx context.Context, t *testing.T, c *client.Client) []rollout.Instance {
	t.Helper()
	for {
		st, err := c.Status(ctx, "web", "prod")
		if err != nil {
			t.Fatal(err)
		}
		var all []rollout.Instance
		v1, v2ready := 0, 0
		for _, rs := range st.Revisions {
			for _, in := range rs.Instances {
				all = append(all, in)
				if in.Revision == 1 {
					v1++
				} else if in.Ready {
					v2ready++
				}
			}
		}
		if v2ready >= 1 && v1 >= 1 {
			return all
		}
		if ctx.Err() != nil {
			t.Fatalf("rollout never reached the middle: %+v", st.Rollout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
