package local

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

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
	// another process (this test), both of a revision no longer known:
	// both must be dropped, neither signalled.
	done := exec.Command("true")
	if err := done.Run(); err != nil {
		t.Fatal(err)
	}
	recs := records{dir: dir + "/instances"}
	gone := record{ID: "app-test-2-gone", App: "app", Env: "test", Revision: 2, PID: done.ProcessState.Pid(), StartTime: 1, Port: 1}
	reused := record{ID: "app-test-2-reused", App: "app", Env: "test", Revision: 2, PID: os.Getpid(), StartTime: 1, Port: 1}
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
	// Adopted instances keep their recorded readiness: no gap in traffic
	// before their first probe.
	for _, i := range b2.Instances("app", "test") {
		if i.Revision == 1 && (!i.Ready || i.State != rollout.Running) {
			t.Errorf("adopted %s right after Recover: %s ready=%v, want Running and ready as recorded", i.ID, i.State, i.Ready)
		}
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

// TestBackend_RecoverKeepsCrashHistory: an instance backing off when its
// gantry goes away is adopted backing off, with its restarts and last
// exit, and goes on restarting; one whose process ended while no gantry
// ran counts that as one more restart.
func TestBackend_RecoverKeepsCrashHistory(t *testing.T) {
	dir := t.TempDir()
	rev := sampleRevision("app", "test", 1, "v1+crash-at-start")
	lookup := func(app, env string, n int) (rollout.Revision, error) {
		if app == "app" && env == "test" && n == 1 {
			return rev, nil
		}
		return rollout.Revision{}, fmt.Errorf("revision %d of %s/%s: %w", n, app, env, rollout.ErrNotFound)
	}
	// A back-off long enough that the instance is still backing off when
	// its gantry goes away.
	opts := Options{DataDir: dir, RestartBackoff: time.Minute, MaxRestartBackoff: time.Minute, StatsInterval: 200 * time.Millisecond}
	b1, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	scale(t, b1, rev, 1)
	crashed := one(t, b1, "app", "test", "backing off after a crash", func(i rollout.Instance) bool {
		return i.State == rollout.BackingOff && i.Restarts == 1
	})
	b1.Release()

	recs := records{dir: dir + "/instances"}
	stored, err := recs.list()
	if err != nil || len(stored) != 1 {
		t.Fatalf("records after a crash: %+v, %v; want the backing-off instance's", stored, err)
	}
	rec := stored[0]
	if !rec.backingOff() || rec.Restarts != 1 || rec.LastExit == nil || rec.LastExit.Code == nil || *rec.LastExit.Code == 0 ||
		rec.LastExit.Message != crashed.LastExit || rec.LastExit.At.IsZero() || rec.BackoffMillis != time.Minute.Milliseconds() {
		t.Fatalf("record of the backing-off instance: %+v (last exit %+v); want no pid, 1 restart, its exit code and time, a 1m back-off", rec, rec.LastExit)
	}
	// As if the back-off ran out while no gantry was running.
	rec.RestartAt = time.Now()
	// And a second instance whose process ended while no gantry ran.
	done := exec.Command("true")
	if err := done.Run(); err != nil {
		t.Fatal(err)
	}
	lost := record{ID: "app-test-1-lost", App: "app", Env: "test", Revision: 1, Version: rev.Version,
		PID: done.ProcessState.Pid(), StartTime: 1, Port: 1, StartedAt: time.Now(), Restarts: 4}
	for _, r := range []record{rec, lost} {
		if err := recs.put(r); err != nil {
			t.Fatal(err)
		}
	}

	b2, ev := newTestBackend(t, opts)
	if err := b2.Recover(context.Background(), lookup); err != nil {
		t.Fatal(err)
	}
	byID := map[string]rollout.Instance{}
	for _, i := range b2.Instances("app", "test") {
		byID[i.ID] = i
	}
	// Its back-off is over: it may have started again already.
	if i := byID[rec.ID]; i.Restarts != 1 || i.LastExit != crashed.LastExit || i.LastExitAt.IsZero() {
		t.Errorf("adopted backing-off instance: %+v; want 1 restart and last exit %q", i, crashed.LastExit)
	}
	if n := len(ev.find(ReasonAdopted, rec.ID+" of revision 1 adopted backing off after 1 restart(s)")); n != 1 {
		t.Errorf("%d %s events saying %s was adopted backing off, want 1:%s", n, ReasonAdopted, rec.ID, ev)
	}
	if i := byID[lost.ID]; i.Restarts != 5 || !strings.Contains(i.LastExit, "while no gantry server was running") {
		t.Errorf("instance whose process ended meanwhile: %+v; want 5 restarts and a last exit saying so", i)
	}
	if n := len(ev.find(ReasonLost, lost.ID)); n != 1 {
		t.Errorf("%d %s events for %s, want 1:%s", n, ReasonLost, lost.ID, ev)
	}
	// Both go on: started again, crashed again, counted.
	waitFor(t, "both instances restarted and crashed again", func() (bool, string) {
		all := b2.Instances("app", "test")
		n := 0
		for _, i := range all {
			if i.ID == rec.ID && i.Restarts == 2 || i.ID == lost.ID && i.Restarts == 6 {
				n++
			}
		}
		return n == 2 && len(all) == 2, backendtest.Describe(all)
	})
	if n := len(ev.find(ReasonRestarted, rec.ID+" of revision 1 restarted (restart 1)")); n != 1 {
		t.Errorf("%d %s events for %s's first run under the new backend, want 1 counting on from its recorded restart:%s", n, ReasonRestarted, rec.ID, ev)
	}
}

// TestBackend_NoTerminatingInstanceOutlivesItsProcess scales instances
// away, started ones and adopted ones, and checks that once an instance's
// process is seen gone, Instances never lists it again.
func TestBackend_NoTerminatingInstanceOutlivesItsProcess(t *testing.T) {
	dir := t.TempDir()
	rev := sampleRevision("app", "test", 1, "v1")
	lookup := func(string, string, int) (rollout.Revision, error) { return rev, nil }
	b1, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	scale(t, b1, rev, 4)
	pids := map[string]int{}
	waitFor(t, "four ready instances", func() (bool, string) {
		all := b1.Instances("app", "test")
		r, _ := backendtest.ReadyCount(all, 1)
		for _, i := range all {
			pids[i.ID] = i.PID
		}
		return r == 4 && len(all) == 4, backendtest.Describe(all)
	})
	b1.Release()
	t.Cleanup(func() {
		for _, pid := range pids {
			syscall.Kill(-pid, syscall.SIGKILL)
		}
	})
	b2, _ := newTestBackend(t, Options{DataDir: dir})
	if err := b2.Recover(context.Background(), lookup); err != nil {
		t.Fatal(err)
	}
	// Two adopted ones stop, then two started ones.
	scale(t, b2, rev, 2)
	scale(t, b2, rev, 4)
	waitFor(t, "two started instances ready", func() (bool, string) {
		all := b2.Instances("app", "test")
		r, _ := backendtest.ReadyCount(all, 1)
		for _, i := range all {
			if _, ok := pids[i.ID]; !ok && i.PID != 0 {
				pids[i.ID] = i.PID
			}
		}
		return r == 4 && len(pids) >= 6, backendtest.Describe(all)
	})
	scale(t, b2, rev, 0)
	seenTerminating := 0
	waitFor(t, "every instance gone", func() (bool, string) {
		gone := map[string]bool{}
		for id, pid := range pids {
			gone[id] = processGone(pid)
		}
		// Looked at after the processes: one seen gone must not be listed.
		all := b2.Instances("app", "test")
		for _, i := range all {
			if i.State == rollout.Terminating {
				seenTerminating++
			}
			if gone[i.ID] {
				t.Fatalf("instance %s is listed (%s) after its process %d was seen gone", i.ID, i.State, pids[i.ID])
			}
		}
		return len(all) == 0, backendtest.Describe(all)
	})
	t.Logf("saw %d terminating instance snapshot(s)", seenTerminating)
}
