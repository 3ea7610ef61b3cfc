package local

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gantry-dev/gantry/rollout"
)

// unrecordedGrace is how long an unrecorded instance gets to stop after
// SIGTERM before its process group is killed.
const unrecordedGrace = 10 * time.Second

// stopUnrecorded ends the instance processes a killed gantry started but
// had not yet recorded: an instance is recorded right after its process
// starts, so a SIGKILL between the two leaves a process no record names,
// which adoption cannot find. Such a process is recognized by
// GANTRY_INSTANCE in its environment and its output going to a log file
// under this DataDir; it is stopped (SIGTERM to its process group, SIGKILL
// after unrecordedGrace, or at once when the Backend is released or shut
// down first) unless this Backend supervises it. It never served: routers
// only learn of instances the backend knows. Recover calls it after
// adopting.
func (b *Backend) stopUnrecorded() {
	logs, err := filepath.Abs(filepath.Join(b.opts.DataDir, "logs"))
	if err != nil {
		return
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		out, err := os.Readlink(filepath.Join(dir, "fd", "1"))
		if err != nil || !strings.HasPrefix(out, logs+string(filepath.Separator)) {
			continue
		}
		vars := environ(dir)
		id, app, env := vars["GANTRY_INSTANCE"], vars["GANTRY_APP"], vars["GANTRY_ENV"]
		if id == "" || b.supervises(id) {
			continue
		}
		if pgid, err := syscall.Getpgid(pid); err != nil || pgid != pid {
			continue // not an instance's group leader
		}
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		b.event(rollout.Instance{App: app, Env: env}, rollout.Warning, ReasonUnrecordedStopped,
			"instance %s (pid %d) was started by a gantry server that stopped before recording it; stopped", id, pid)
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			select {
			case <-time.After(unrecordedGrace):
			case <-b.detach:
			}
			if vars := environ(dir); vars["GANTRY_INSTANCE"] == id {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			}
		}()
	}
}

// supervises reports whether the instance called id is this Backend's.
func (b *Backend) supervises(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.instances[id]
	return ok
}

// environ reads a process's GANTRY_ environment variables from its /proc directory.
func environ(dir string) map[string]string {
	b, err := os.ReadFile(filepath.Join(dir, "environ"))
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, kv := range bytes.Split(b, []byte{0}) {
		if k, v, ok := bytes.Cut(kv, []byte("=")); ok && bytes.HasPrefix(k, []byte("GANTRY_")) {
			out[string(k)] = string(v)
		}
	}
	return out
}
