package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/backend/backendtest"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

func TestBackend_CrashRestartsWithBackoff(t *testing.T) {
	b, ev := newTestBackend(t, Options{RestartBackoff: 200 * time.Millisecond, MaxRestartBackoff: time.Second})
	scale(t, b, sampleRevision("crash", "test", 1, "v1+crash-after=300ms"), 1)
	sawBackingOff := false
	in := one(t, b, "crash", "test", "two restarts, seen backing off", func(i rollout.Instance) bool {
		if i.State == rollout.BackingOff {
			sawBackingOff = true
			if i.Ready || i.PID != 0 {
				t.Errorf("backing off yet ready %v, pid %d", i.Ready, i.PID)
			}
		}
		return i.Restarts >= 2 && sawBackingOff
	})
	if in.LastExit != "exit status 1" {
		t.Errorf("LastExit = %q, want %q", in.LastExit, "exit status 1")
	}
	// The event of an exit follows the restart count it shows.
	waitFor(t, "two exit events", func() (bool, string) {
		got := ev.find(ReasonExited, "exit status 1")
		return len(got) >= 2 && got[0].Type == rollout.Warning, ev.String()
	})
	if got := ev.find(ReasonRestarted, in.ID); len(got) < 1 {
		t.Errorf("want a %s event; got:%s", ReasonRestarted, ev)
	}
	log, err := b.Logs(context.Background(), "crash", "test", in.ID, backend.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(log)
	log.Close()
	if n := strings.Count(string(text), "crashing after"); n < 2 {
		t.Errorf("log of %s has %d crash lines, want at least 2:\n%s", in.ID, n, text)
	}
}

func TestBackend_NeverReady(t *testing.T) {
	b, _ := newTestBackend(t, Options{})
	scale(t, b, sampleRevision("never", "test", 1, "v1+never-ready"), 1)
	scale(t, b, sampleRevision("ready", "test", 1, "v1"), 1)
	in := one(t, b, "never", "test", "a started process", func(i rollout.Instance) bool { return i.PID != 0 })
	// Three probe periods after the healthy twin is ready, the never-ready
	// instance must still be starting, out of traffic.
	one(t, b, "ready", "test", "the healthy twin ready", func(i rollout.Instance) bool { return i.Ready })
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		got := b.Instances("never", "test")
		if len(got) != 1 || got[0].Ready || got[0].State != rollout.Starting || got[0].ID != in.ID || got[0].Restarts != 0 {
			t.Fatalf("never-ready instance: %s; want one instance, Starting and not ready", backendtest.Describe(got))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBackend_LivenessFailureRestarts(t *testing.T) {
	b, ev := newTestBackend(t, Options{RestartBackoff: 100 * time.Millisecond})
	rev := sampleRevision("sick", "test", 1, "v1+errors=1")
	rev.Spec.LivenessProbe = &spec.Probe{HTTPGet: &spec.HTTPGetAction{Path: "/orders"}, PeriodSeconds: 1, FailureThreshold: 2}
	scale(t, b, rev, 1)
	// On a loaded machine the first probes may find the process not yet
	// listening (connection refused counts as a failure, as in Kubernetes);
	// wait for the restart that the HTTP 500 answers caused.
	one(t, b, "sick", "test", "a restart after liveness failures answered HTTP 500", func(i rollout.Instance) bool {
		return i.Restarts >= 1 && strings.HasPrefix(i.LastExit, "liveness probe failed: HTTP 500")
	})
	if got := ev.find(ReasonUnhealthy, "HTTP 500"); len(got) == 0 || got[0].Type != rollout.Warning {
		t.Errorf("want a Warning %s event; got:%s", ReasonUnhealthy, ev)
	}
	one(t, b, "sick", "test", "the liveness body kept", func(i rollout.Instance) bool {
		return strings.Contains(i.Health, "injected failure")
	})
}

func TestBackend_HealthBody(t *testing.T) {
	b, _ := newTestBackend(t, Options{})
	rev := sampleRevision("db", "test", 1, "v1+db-down")
	rev.Spec.LivenessProbe = &spec.Probe{HTTPGet: &spec.HTTPGetAction{Path: "/health"}, PeriodSeconds: 1}
	scale(t, b, rev, 1)
	in := one(t, b, "db", "test", "a warning health body", func(i rollout.Instance) bool {
		return i.Ready && strings.Contains(i.Health, `"status":"warn"`)
	})
	if in.Restarts != 0 || !strings.Contains(in.Health, "connection refused") {
		t.Errorf("restarts %d, health %q; want no restart (alive) and the database failure", in.Restarts, in.Health)
	}
}

func TestBackend_GracefulStopFinishesInflight(t *testing.T) {
	var mu sync.Mutex
	var changes []rollout.Instance // the instance as OnChange saw it
	var drained []string           // "addr state alive" when Drain was called
	var b *Backend
	b, ev := newTestBackend(t, Options{
		OnChange: func(app, env string) {
			mu.Lock()
			defer mu.Unlock()
			for _, i := range b.Instances(app, env) {
				changes = append(changes, i)
			}
		},
		Drain: func(ctx context.Context, addr string) error {
			all := b.Instances("slow", "test")
			mu.Lock()
			defer mu.Unlock()
			for _, i := range all {
				drained = append(drained, fmt.Sprintf("%s %s alive=%v", addr, i.State, syscall.Kill(i.PID, 0) == nil))
			}
			return nil
		},
	})
	scale(t, b, sampleRevision("slow", "test", 1, "v1+latency=2s"), 1)
	in := one(t, b, "slow", "test", "ready", func(i rollout.Instance) bool { return i.Ready })

	type result struct {
		code int
		body string
		err  error
	}
	inflight := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + in.Addr + "/slow")
		if err != nil {
			inflight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		inflight <- result{resp.StatusCode, string(body), err}
	}()
	waitFor(t, "the slow request in flight", func() (bool, string) { return hasEstablished(in.PID), "" })
	scale(t, b, sampleRevision("slow", "test", 1, "v1+latency=2s"), 0)
	got := <-inflight
	if got.err != nil || got.code != http.StatusOK {
		t.Errorf("in-flight request during the stop = %d %q %v, want 200", got.code, got.body, got.err)
	}
	waitFor(t, "the instance gone", func() (bool, string) {
		all := b.Instances("slow", "test")
		return len(all) == 0, backendtest.Describe(all)
	})
	if !processGone(in.PID) {
		t.Errorf("process %d still runs", in.PID)
	}
	// The instance leaves status as soon as its process is gone; its events follow.
	waitFor(t, "the InstanceStopped event", func() (bool, string) {
		return len(ev.find(ReasonStopped, "")) > 0, ev.String()
	})
	if got := ev.find(ReasonStopped, "exit status 0"); len(got) != 1 {
		t.Errorf("want one %s event with exit status 0 (graceful); got:%s", ReasonStopped, ev)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := in.Addr + " Terminating alive=true"; len(drained) != 1 || drained[0] != want {
		t.Errorf("Drain calls: %q, want [%q] (before SIGTERM)", drained, want)
	}
	sawTerminating := false
	for _, c := range changes {
		if c.ID == in.ID && c.State == rollout.Terminating {
			sawTerminating = true
			if c.Ready {
				t.Errorf("OnChange saw a terminating instance still ready: %+v", c)
			}
		}
	}
	if !sawTerminating {
		t.Errorf("OnChange never saw the instance Terminating: %s", backendtest.Describe(changes))
	}
}

func TestBackend_GracePeriodEndsInSIGKILL(t *testing.T) {
	b, ev := newTestBackend(t, Options{})
	grace := 1
	rev := rollout.Revision{App: "stubborn", Env: "test", Number: 1, Version: "v1", Spec: spec.AppSpec{
		Workload:                      spec.Workload{Command: "sh", Args: []string{"-c", `trap "" TERM; sleep 1000 & wait`}},
		TerminationGracePeriodSeconds: &grace,
	}}
	scale(t, b, rev, 1)
	in := one(t, b, "stubborn", "test", "running", func(i rollout.Instance) bool { return i.Ready && i.PID != 0 })
	waitFor(t, "SIGTERM ignored by the shell and its sleep", func() (bool, string) {
		return ignoresTERM(in.PID) && len(groupMembers(in.PID)) == 2, fmt.Sprint(groupMembers(in.PID))
	})
	members := groupMembers(in.PID)
	scale(t, b, rev, 0)
	waitFor(t, "the instance gone", func() (bool, string) {
		all := b.Instances("stubborn", "test")
		return len(all) == 0, backendtest.Describe(all)
	})
	for _, pid := range members {
		if !processGone(pid) {
			t.Errorf("process %d of the group still runs", pid)
		}
	}
	waitFor(t, "the InstanceStopped event", func() (bool, string) {
		return len(ev.find(ReasonStopped, "")) > 0, ev.String()
	})
	if got := ev.find(ReasonKilled, "SIGKILL"); len(got) != 1 {
		t.Errorf("want one %s event; got:%s", ReasonKilled, ev)
	}
}

func TestBackend_Stats(t *testing.T) {
	b, _ := newTestBackend(t, Options{})
	scale(t, b, sampleRevision("hungry", "test", 1, "v1+mem-growth=50MiB/s,cpu-burn=0.5"), 1)
	one(t, b, "hungry", "test", "over 40MiB resident and CPU in use", func(i rollout.Instance) bool {
		return i.RSSBytes > 40<<20 && i.CPUMillis > 50
	})
}

func TestBackend_ShutdownLeavesNoProcess(t *testing.T) {
	b, err := New(Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	scale(t, b, sampleRevision("app", "test", 1, "v1"), 2)
	scale(t, b, sampleRevision("app", "test", 2, "v2+never-ready"), 1)
	var pids []int
	waitFor(t, "three processes", func() (bool, string) {
		all := b.Instances("app", "test")
		pids = pids[:0]
		for _, i := range all {
			if i.PID != 0 {
				pids = append(pids, i.PID)
			}
		}
		return len(pids) == 3, backendtest.Describe(all)
	})
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := b.Instances("app", "test"); len(got) != 0 {
		t.Errorf("after Shutdown: %s", backendtest.Describe(got))
	}
	for _, pid := range pids {
		if !processGone(pid) {
			t.Errorf("process %d still runs after Shutdown", pid)
		}
	}
	if err := b.Scale(ctx, sampleRevision("app", "test", 1, "v1"), 1); err == nil {
		t.Error("Scale after Shutdown: no error")
	}
}

func TestBackend_Kill(t *testing.T) {
	b, ev := newTestBackend(t, Options{RestartBackoff: 100 * time.Millisecond})
	scale(t, b, sampleRevision("oom", "test", 1, "v1"), 1)
	in := one(t, b, "oom", "test", "ready", func(i rollout.Instance) bool { return i.Ready })
	if err := b.Kill("oom", "test", in.ID, "OOMKilled: over the memory limit"); err != nil {
		t.Fatal(err)
	}
	got := one(t, b, "oom", "test", "restarted", func(i rollout.Instance) bool { return i.Restarts == 1 && i.Ready })
	if got.LastExit != "OOMKilled: over the memory limit" || got.PID == in.PID {
		t.Errorf("after Kill: last exit %q, pid %d (was %d)", got.LastExit, got.PID, in.PID)
	}
	if len(ev.find(ReasonKilled, "OOMKilled")) != 1 {
		t.Errorf("want one %s event; got:%s", ReasonKilled, ev)
	}
	if err := b.Kill("oom", "test", "nobody", "x"); !errors.Is(err, rollout.ErrNotFound) {
		t.Errorf("Kill of an unknown instance = %v, want ErrNotFound", err)
	}
}

func TestBackend_ScaleErrors(t *testing.T) {
	b, _ := newTestBackend(t, Options{})
	bad := sampleRevision("bad", "test", 1, "v1")
	bad.Spec.Workload.Args = []string{"{{.Prot}}"}
	noCmd := sampleRevision("bad", "test", 1, "v1")
	noCmd.Spec.Workload.Command = ""
	missing := sampleRevision("bad", "test", 1, "v1")
	missing.Spec.Workload.Command = "./bin/not-built-yet"
	tests := []struct {
		name string
		rev  rollout.Revision
		n    int
		want string
	}{
		{"negative", sampleRevision("bad", "test", 1, "v1"), -1, "negative"},
		{"no command", noCmd, 1, "workload.command"},
		{"bad placeholder", bad, 1, "Prot"},
		{"missing command", missing, 1, "not-built-yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := b.Scale(context.Background(), tt.rev, tt.n)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Scale = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
	if got := b.Instances("bad", "test"); len(got) != 0 {
		t.Errorf("instances after failed Scale: %s", backendtest.Describe(got))
	}
}

func TestBackend_Logs_unknown(t *testing.T) {
	b, _ := newTestBackend(t, Options{})
	for _, id := range []string{"nobody", "../x", ""} {
		if _, err := b.Logs(context.Background(), "app", "test", id, backend.LogOptions{}); !errors.Is(err, rollout.ErrNotFound) {
			t.Errorf("Logs(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

// ignoresTERM reports whether pid has SIGTERM ignored (SigIgn in /proc/<pid>/status).
func ignoresTERM(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			var mask uint64
			fmt.Sscanf(strings.TrimSpace(v), "%x", &mask)
			return mask&(1<<(uint(syscall.SIGTERM)-1)) != 0
		}
	}
	return false
}

// groupMembers lists the live processes of process group pgid.
func groupMembers(pgid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil && st.pgrp == pgid && st.state != 'Z' {
			out = append(out, pid)
		}
	}
	return out
}

// hasEstablished reports whether process pid holds an established TCP
// connection, from its socket inodes and /proc/net/tcp.
func hasEstablished(pid int) bool {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	inodes := map[string]bool{}
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	b, _ := os.ReadFile("/proc/net/tcp")
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 9 && f[3] == "01" && inodes[f[9]] {
			return true
		}
	}
	return false
}
