package local

import (
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/prometheus/procfs"
)

// clockTicks is the kernel's USER_HZ, the unit of /proc/<pid>/stat times.
// It is 100 on every Linux architecture gantry runs on.
const clockTicks = 100

var pageSize = int64(os.Getpagesize())

// procFS opens /proc once, on first use.
var procFS = sync.OnceValues(procfs.NewDefaultFS)

// procStat is the part of /proc/<pid>/stat gantry reads.
type procStat struct {
	pid   int
	state byte // R, S, D, Z, ...
	pgrp  int
	// ticks is utime+stime, in clock ticks.
	ticks uint64
	// startTime is when the process started, in clock ticks after boot;
	// with the pid it identifies a process across pid reuse.
	startTime uint64
	// rssPages is the resident set, in pages.
	rssPages int64
}

// readStat reads /proc/<pid>/stat.
func readStat(pid int) (procStat, error) {
	fs, err := procFS()
	if err != nil {
		return procStat{}, fmt.Errorf("open /proc: %w", err)
	}
	p, err := fs.Proc(pid)
	if err != nil {
		return procStat{}, err
	}
	return statOf(p)
}

// statOf reads the stat of p, a process of procFS.
func statOf(p procfs.Proc) (procStat, error) {
	s, err := p.Stat()
	if err != nil {
		return procStat{}, fmt.Errorf("read /proc/%d/stat: %w", p.PID, err)
	}
	st := procStat{pid: s.PID, pgrp: s.PGRP, ticks: uint64(s.UTime) + uint64(s.STime),
		startTime: s.Starttime, rssPages: int64(s.RSS)}
	if s.State != "" {
		st.state = s.State[0]
	}
	return st, nil
}

// groupUsage is the summed use of the live processes of one process group.
type groupUsage struct {
	ticks    uint64
	rssBytes int64
	pids     []int
}

// groupFiles is what a process group holds open and has read and written
// to storage; ok false when a process's could not be read (then none is
// reported rather than a part).
type groupFiles struct {
	openFiles             int64
	readBytes, writeBytes uint64
	ok                    bool
}

// filesOf reads /proc/PID/fd and /proc/PID/io of the group's processes.
func filesOf(pids []int) groupFiles {
	fs, err := procFS()
	if err != nil || len(pids) == 0 {
		return groupFiles{}
	}
	var g groupFiles
	for _, pid := range pids {
		p, err := fs.Proc(pid)
		if err != nil {
			continue // exited since the scan
		}
		n, ferr := p.FileDescriptorsLen()
		io, ierr := p.IO()
		if ferr != nil || ierr != nil {
			return groupFiles{}
		}
		g.openFiles += int64(n)
		g.readBytes += io.ReadBytes
		g.writeBytes += io.WriteBytes
	}
	g.ok = true
	return g
}

// scanGroups reads every process in /proc and sums CPU time and resident
// memory per process group. Processes that vanish while it reads are skipped.
func scanGroups() map[int]groupUsage {
	fs, err := procFS()
	if err != nil {
		return nil
	}
	procs, err := fs.AllProcs()
	if err != nil {
		return nil
	}
	groups := make(map[int]groupUsage)
	for _, p := range procs {
		s, err := statOf(p)
		if err != nil || s.state == 'Z' {
			continue
		}
		g := groups[s.pgrp]
		g.ticks += s.ticks
		g.rssBytes += s.rssPages * pageSize
		g.pids = append(g.pids, s.pid)
		groups[s.pgrp] = g
	}
	return groups
}

// hasEnv reports whether process pid's environment holds kv ("NAME=value").
// ok is false when the environment cannot be read (another user's process).
func hasEnv(pid int, kv string) (has, ok bool) {
	fs, err := procFS()
	if err != nil {
		return false, false
	}
	p, err := fs.Proc(pid)
	if err != nil {
		return false, false
	}
	env, err := p.Environ()
	if err != nil {
		return false, false
	}
	return slices.Contains(env, kv), true
}
