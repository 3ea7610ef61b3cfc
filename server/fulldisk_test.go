package server_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/rollout"
)

// tmpfsDir mounts a tmpfs of size (such as "16m") on a fresh directory
// until the test ends, or skips the test saying why it cannot.
func tmpfsDir(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("full-disk test: mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("full-disk test: cannot mount a tmpfs (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		// Lazily: an instance's log file may still be open.
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file in dir until the file system is full and
// returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 64<<10)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill the disk: %v", err)
			}
			break
		}
	}
	// What is left in a partial block too.
	for {
		if _, err := f.Write(block[:512]); err != nil {
			break
		}
	}
	return path
}

// TestServer_FullDiskIsAConditionAndLosesNoEvent runs gantry server with
// its data on a small tmpfs, fills the disk in the middle of a rollout and
// frees it again: while the disk is full, `gantry status` shows a
// StoreWriteFailing condition on the environment; afterwards the condition
// clears, the rollout ends, and the events of the full-disk time
// (instance starts, the rollout's steps) are in the event log in order.
func TestServer_FullDiskIsAConditionAndLosesNoEvent(t *testing.T) {
	data := tmpfsDir(t, "24m")
	killInstancesAtEnd(t)
	listen := freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv := startServerProc(t, data, listen, "--stop-instances-on-exit")
	c, err := client.New(client.Options{Server: srv.url, Token: srv.token})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, "gantry.yaml", []byte(crashLoopApp(freeAddr(t), "    type: RollingUpdate"))); err != nil {
		t.Fatal(err)
	}
	r, err := c.Deploy(ctx, "web", "prod", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if r, err = c.WaitRollout(ctx, r.ID, 100*time.Millisecond, nil); err != nil || r.Phase != rollout.Succeeded {
		t.Fatalf("v1: %v %s", err, r.Phase)
	}
	if r, err = c.Deploy(ctx, "web", "prod", "v2+slow-start=2s"); err != nil {
		t.Fatal(err)
	}
	before, err := c.Events(ctx, "web", "prod", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	filler := fillDisk(t, data)

	var cond rollout.Condition
	for {
		st, err := c.Status(ctx, "web", "prod")
		if err != nil {
			t.Fatalf("status with the disk full: %v", err)
		}
		if len(st.Conditions) > 0 {
			cond = st.Conditions[0]
			break
		}
		if ctx.Err() != nil {
			t.Fatal("no condition on web/prod while the disk is full")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("condition with the disk full: %+v", cond)
	if cond.Type != rollout.ConditionStoreWriteFailing || !strings.Contains(cond.Message, "(web/prod)") ||
		strings.Contains(cond.Message, "rollout 0 ") || !strings.Contains(strings.ToLower(cond.Message), "full") {
		t.Errorf("condition %+v; want %s naming web/prod and the full disk", cond, rollout.ConditionStoreWriteFailing)
	}
	out, err := exec.Command(gantryBin, "rollout", "status", "web", "--env", "prod", "--server", srv.url, "--token", srv.token).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "condition StoreWriteFailing") {
		t.Errorf("gantry rollout status with the disk full (%v) does not show the condition:\n%s", err, out)
	}
	// Long enough for some writes to wait.
	time.Sleep(2 * time.Second)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}

	end, err := waitFinal(ctx, c, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rollout %d ended %s (%s: %s)", end.ID, end.Phase, end.Reason, end.Message)
	for {
		st, err := c.Status(ctx, "web", "prod")
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Conditions) == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("condition still there after the disk was freed: %+v", st.Conditions)
		}
		time.Sleep(50 * time.Millisecond)
	}
	checkTransitionEvents(ctx, t, c, end)
	var since int64
	if len(before) > 0 {
		since = before[len(before)-1].ID
	}
	after, err := c.Events(ctx, "web", "prod", since, 0)
	if err != nil {
		t.Fatal(err)
	}
	var started, last int64
	for _, e := range after {
		if e.ID <= last {
			t.Errorf("event %d after %d: out of order", e.ID, last)
		}
		last = e.ID
		if e.Reason == rollout.ReasonInstanceStarted && e.Details != nil && e.Details.Instance != nil && e.Details.Instance.Revision == r.ToRevision {
			started++
		}
	}
	if started == 0 {
		t.Errorf("no InstanceStarted event of revision %d in the log: %d events since the disk filled", r.ToRevision, len(after))
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := srv.cmd.Wait(); err != nil {
		t.Errorf("server exit: %v", err)
	}
}
