package local

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

func TestReadStat(t *testing.T) {
	self, err := readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if self.pid != os.Getpid() || self.pgrp != syscall.Getpgrp() || self.state == 'Z' || self.startTime == 0 || self.rssPages <= 0 {
		t.Errorf("readStat(self) = %+v, want pid %d, pgrp %d, not a zombie, a start time and resident pages", self, os.Getpid(), syscall.Getpgrp())
	}
	if _, live := scanGroups()[self.pgrp]; !live {
		t.Errorf("scanGroups has no group %d (this test's)", self.pgrp)
	}
	if has, ok := hasEnv(os.Getpid(), "GANTRY_TEST_PROCSTAT=1"); !ok || has {
		t.Errorf("hasEnv(self, unset variable) = %v, %v; want false, true", has, ok)
	}
	cmd := exec.Command("sh", "-c", "echo started; exec sleep 60")
	cmd.Env = []string{"GANTRY_TEST_PROCSTAT=1"}
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if _, err := out.Read(make([]byte, 8)); err != nil { // exec'd: its own environment
		t.Fatal(err)
	}
	// sh may be in the middle of its exec of sleep, when /proc shows no
	// environment for a moment: wait for the condition, not for a time.
	var has, ok bool
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if has, ok = hasEnv(cmd.Process.Pid, "GANTRY_TEST_PROCSTAT=1"); ok && has {
			break
		}
	}
	if !ok || !has {
		t.Errorf("hasEnv(child) = %v, %v; want true, true", has, ok)
	}
	child, err := readStat(cmd.Process.Pid)
	if err != nil || child.startTime < self.startTime {
		t.Errorf("readStat(child) = %+v, %v; want a start time after this test's %d", child, err, self.startTime)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := readStat(cmd.Process.Pid); err == nil {
		t.Errorf("readStat of a reaped process: no error")
	}
}

func TestThreshold_Observe(t *testing.T) {
	tests := []struct {
		name      string
		th        threshold
		results   []bool
		want      []bool // passing after each result
		wantFlips int
	}{
		{"readiness: one pass makes ready", threshold{successes: 1, failures: 3}, []bool{false, true, false, false, false},
			[]bool{false, true, true, true, false}, 2},
		{"readiness: two passes in a row", threshold{successes: 2, failures: 1}, []bool{true, false, true, true, false},
			[]bool{false, false, false, true, false}, 2},
		{"liveness: three failures in a row", threshold{successes: 1, failures: 3, passing: true}, []bool{false, false, true, false, false, false},
			[]bool{true, true, true, true, true, false}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := tt.th
			flips := 0
			for i, r := range tt.results {
				if th.observe(r) {
					flips++
				}
				if th.passing != tt.want[i] {
					t.Errorf("after result %d (%v): passing %v, want %v", i, r, th.passing, tt.want[i])
				}
			}
			if flips != tt.wantFlips {
				t.Errorf("%d changes reported, want %d", flips, tt.wantFlips)
			}
		})
	}
}

func TestRecords(t *testing.T) {
	r := records{dir: t.TempDir()}
	want := record{ID: "web-prod-3-abcde", App: "web", Env: "prod", Revision: 3, Version: "v3", PID: 12, StartTime: 34, Port: 5678, Restarts: 2}
	if err := r.put(want); err != nil {
		t.Fatal(err)
	}
	want.Restarts = 3
	if err := r.put(want); err != nil { // replaces
		t.Fatal(err)
	}
	got, err := r.list()
	if err != nil || len(got) != 1 || got[0] != want {
		t.Fatalf("list = %+v, %v; want [%+v]", got, err, want)
	}
	if err := r.remove(want.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.remove(want.ID); err != nil {
		t.Errorf("removing a missing record: %v", err)
	}
	if got, err := r.list(); err != nil || len(got) != 0 {
		t.Errorf("after remove: %+v, %v", got, err)
	}
}

func TestStartupGrace(t *testing.T) {
	t0 := time.Now()
	refused := probeResult{detail: "dial: connection refused"}
	http500 := probeResult{detail: "HTTP 500", answered: true}
	ok := probeResult{passed: true, answered: true}

	g := startupGrace{until: t0.Add(StartupGrace)}
	if !g.excuses(refused, t0.Add(time.Second)) {
		t.Error("a refused probe in the grace counted")
	}
	if g.excuses(refused, t0.Add(StartupGrace)) {
		t.Error("a refused probe after the grace was excused")
	}
	g = startupGrace{until: t0.Add(StartupGrace)}
	if g.excuses(http500, t0.Add(time.Second)) {
		t.Error("a probe answered with HTTP 500 in the grace was excused")
	}
	g = startupGrace{until: t0.Add(StartupGrace)}
	if g.excuses(ok, t0) || g.excuses(refused, t0.Add(2*time.Second)) {
		t.Error("a refused probe after the process answered once was excused")
	}
}
