package local

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// clockTicks is the kernel's USER_HZ, the unit of /proc/<pid>/stat times.
// It is 100 on every Linux architecture gantry runs on.
const clockTicks = 100

var pageSize = int64(os.Getpagesize())

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
	var buf [1024]byte
	b, err := readProcFile("/proc/"+strconv.Itoa(pid)+"/stat", buf[:])
	if err != nil {
		return procStat{}, err
	}
	return parseStat(b)
}

// readProcFile reads a small /proc file into buf with plain system calls:
// os.ReadFile's stat and poller registration cost more than the read, and
// the sampler reads every process's stat each interval.
func readProcFile(path string, buf []byte) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	n := 0
	for n < len(buf) {
		m, err := syscall.Read(fd, buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 {
			break
		}
		n += m
	}
	return buf[:n], nil
}

// parseStat parses the contents of /proc/<pid>/stat (see proc(5)). The
// command name, in parentheses, may itself hold spaces and parentheses, so
// the fields are counted from the last ')'.
func parseStat(b []byte) (procStat, error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("parse /proc stat %q: no command name", b)
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return procStat{}, fmt.Errorf("parse /proc stat pid: %w", err)
	}
	f := strings.Fields(string(b[end+1:]))
	// f[0] is field 3 (state) of proc(5); field n is f[n-3].
	if len(f) < 22 {
		return procStat{}, fmt.Errorf("parse /proc stat of pid %d: %d fields, want at least 24", pid, len(f)+2)
	}
	num := func(field int) uint64 {
		v, e := strconv.ParseUint(f[field-3], 10, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("parse /proc stat of pid %d field %d %q: %w", pid, field, f[field-3], e)
		}
		return v
	}
	s := procStat{pid: pid, state: f[0][0]}
	s.pgrp = int(num(5))
	s.ticks = num(14) + num(15)
	s.startTime = num(22)
	s.rssPages = int64(num(24))
	return s, err
}

// groupUsage is the summed use of the live processes of one process group.
type groupUsage struct {
	ticks    uint64
	rssBytes int64
}

// scanGroups reads every process in /proc and sums CPU time and resident
// memory per process group. Processes that vanish while it reads are skipped.
func scanGroups() map[int]groupUsage {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	groups := make(map[int]groupUsage)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		s, err := readStat(pid)
		if err != nil || s.state == 'Z' {
			continue
		}
		g := groups[s.pgrp]
		g.ticks += s.ticks
		g.rssBytes += s.rssPages * pageSize
		groups[s.pgrp] = g
	}
	return groups
}

// hasEnv reports whether process pid's environment holds kv ("NAME=value").
// ok is false when the environment cannot be read (another user's process).
func hasEnv(pid int, kv string) (has, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false, false
	}
	for e := range bytes.SplitSeq(b, []byte{0}) {
		if string(e) == kv {
			return true, true
		}
	}
	return false, true
}
