package server

import (
	"bytes"
	"fmt"
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

// ReasonUnrecordedStopped is the event of an instance process stopped
// because no record of it survived a crash.
const ReasonUnrecordedStopped = "UnrecordedInstanceStopped"

// stopUnrecorded ends the instance processes a killed server started but
// had not yet recorded: the local backend records an instance right after
// its process starts, so a SIGKILL between the two leaves a process no
// record names, which adoption cannot find. Such a process is recognized by
// GANTRY_INSTANCE in its environment and its output going to a log file
// under this data directory; it is stopped (SIGTERM to its process group,
// SIGKILL after unrecordedGrace) unless known says the backend supervises
// it. It never served: the proxies route only to instances the backend
// knows. Call it once, after adoption and before the engine starts.
func stopUnrecorded(dataDir string, known func(app, env, id string) bool, event func(rollout.Event)) {
	logs, err := filepath.Abs(filepath.Join(dataDir, "logs"))
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
		if id == "" || known(app, env, id) {
			continue
		}
		if pgid, err := syscall.Getpgid(pid); err != nil || pgid != pid {
			continue // not an instance's group leader
		}
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		event(rollout.Event{
			Time: time.Now(), App: app, Env: env, Type: rollout.Warning, Reason: ReasonUnrecordedStopped,
			Message: fmt.Sprintf("instance %s (pid %d) was started by a gantry server that stopped before recording it; stopped", id, pid),
		})
		go func() {
			time.Sleep(unrecordedGrace)
			if vars := environ(dir); vars["GANTRY_INSTANCE"] == id {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			}
		}()
	}
}

// environ reads a process's environment from its /proc directory.
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
