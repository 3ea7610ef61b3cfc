package local

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/gantry-dev/gantry/backend/backendtest"
	"github.com/gantry-dev/gantry/rollout"
)

func TestBackend_RecoverAdopts(t *testing.T) {
	dir := t.TempDir()
	rev1 := sampleRevision("app", "test", 1, "v1")
	rev2 := sampleRevision("app", "test", 2, "v2")
	b1, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	scale(t, b1, rev1, 2)
	scale(t, b1, rev2, 1)
	pids := map[string]int{} // by instance ID
	revs := map[string]int{}
	waitFor(t, "three ready instances", func() (bool, string) {
		all := b1.Instances("app", "test")
		for _, i := range all {
			pids[i.ID], revs[i.ID] = i.PID, i.Revision
		}
		r1, _ := backendtest.ReadyCount(all, 1)
		r2, _ := backendtest.ReadyCount(all, 2)
		return len(all) == 3 && r1 == 2 && r2 == 1, backendtest.Describe(all)
	})
	b1.Release()
	t.Cleanup(func() {
		for _, pid := range pids {
			syscall.Kill(-pid, syscall.SIGKILL)
		}
	})
	for id, pid := range pids {
		if processGone(pid) {
			t.Fatalf("instance %s (pid %d) did not survive Release", id, pid)
		}
	}

	// A record whose process is gone, and one whose pid now belongs to
	// another process (this test): both must be dropped, neither signalled.
	done := exec.Command("true")
	if err := done.Run(); err != nil {
		t.Fatal(err)
	}
	recs := records{dir: dir + "/instances"}
	gone := record{ID: "app-test-1-gone", App: "app", Env: "test", Revision: 1, PID: done.ProcessState.Pid(), StartTime: 1, Port: 1}
	reused := record{ID: "app-test-1-reused", App: "app", Env: "test", Revision: 1, PID: os.Getpid(), StartTime: 1, Port: 1}
	for _, r := range []record{gone, reused} {
		if err := recs.put(r); err != nil {
			t.Fatal(err)
		}
	}

	b2, ev := newTestBackend(t, Options{DataDir: dir})
	lookup := func(app, env string, n int) (rollout.Revision, error) {
		if app == "app" && env == "test" && n == 1 {
			return rev1, nil
		}
		return rollout.Revision{}, fmt.Errorf("revision %d of %s/%s: %w", n, app, env, rollout.ErrNotFound)
	}
	if err := b2.Recover(context.Background(), lookup); err != nil {
		t.Fatal(err)
	}
	if n := len(ev.find(ReasonAdopted, "")); n != 3 {
		t.Errorf("%d %s events, want 3:%s", n, ReasonAdopted, ev)
	}
	if n := len(ev.find(ReasonLost, "")); n != 2 {
		t.Errorf("%d %s events, want 2:%s", n, ReasonLost, ev)
	}
	for _, r := range []record{gone, reused} {
		if _, err := os.Stat(recs.path(r.ID)); !os.IsNotExist(err) {
			t.Errorf("stale record %s still there: %v", r.ID, err)
		}
	}

	// Revision 1 is adopted and probed ready again, with its processes;
	// revision 2 is unknown and stopped.
	waitFor(t, "revision 1 adopted and ready, revision 2 stopped", func() (bool, string) {
		all := b2.Instances("app", "test")
		ready, n := backendtest.ReadyCount(all, 1)
		return ready == 2 && n == 2 && len(all) == 2, backendtest.Describe(all)
	})
	for _, i := range b2.Instances("app", "test") {
		if pids[i.ID] != i.PID || i.Restarts != 0 {
			t.Errorf("adopted %s has pid %d, %d restarts; want pid %d, none", i.ID, i.PID, i.Restarts, pids[i.ID])
		}
	}
	for id, pid := range pids {
		if revs[id] == 2 {
			waitFor(t, "the revision 2 process gone", func() (bool, string) { return processGone(pid), "" })
		}
	}

	// Stats and stopping work on adopted processes too.
	adopted := b2.Instances("app", "test")[0]
	waitFor(t, "memory of an adopted process", func() (bool, string) {
		for _, i := range b2.Instances("app", "test") {
			if i.ID == adopted.ID {
				return i.RSSBytes > 0, backendtest.Describe([]rollout.Instance{i})
			}
		}
		return false, "gone"
	})
	scale(t, b2, rev1, 1)
	waitFor(t, "one instance left", func() (bool, string) {
		all := b2.Instances("app", "test")
		return len(all) == 1, backendtest.Describe(all)
	})
	stopped := 0
	for _, pid := range pids {
		if processGone(pid) {
			stopped++
		}
	}
	if stopped != 2 {
		t.Errorf("%d of 3 processes stopped, want 2 (revision 2 and one of revision 1)", stopped)
	}
	left := b2.Instances("app", "test")[0]
	if _, err := os.Stat(recs.path(left.ID)); err != nil {
		t.Errorf("record of the running instance %s: %v", left.ID, err)
	}
}
