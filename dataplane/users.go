package dataplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gantry-dev/gantry/proxy"
)

// Active users survive a change of data plane process: the users windows
// of every main listener (proxy.UserWindows) go to the next process, which
// counts them among its own until they would have left the window here.
//
//   - An upgrade (`gantry proxy upgrade`) sends them in the handoff, with
//     the state and the listeners; they are read when the handover starts,
//     so only the users of new connections the old process accepts in the
//     moment both processes accept are not carried.
//   - A graceful stop (SIGTERM) writes them to UsersFile in the data
//     directory before closing the listeners; the next process started
//     there reads and removes the file, and counts each environment's
//     users once that environment is applied.
//   - A crash loses the users served since the server last read the
//     counters (every 15 s and at each scrape; router/remoterouter
//     carries those).

// UsersFile holds the users windows a data plane stopped gracefully left
// for its successor (JSON, mode 0600); read and removed at the next start.
const UsersFile = "proxy.users"

// envUsers are one environment's users windows.
type envUsers struct {
	App, Env  string
	Revisions []proxy.UserWindow
}

// userWindows returns the users windows of every environment's main
// listener that served users during the window ending now.
func (p *Plane) userWindows() []envUsers {
	p.mu.Lock()
	envs := p.sortedLocked()
	p.mu.Unlock()
	var out []envUsers
	for _, e := range envs {
		if ws := e.proxy.UserWindows(); len(ws) > 0 {
			out = append(out, envUsers{App: e.state.App, Env: e.state.Name, Revisions: ws})
		}
	}
	return out
}

// carryUsers counts us among the users of the environments applied, and
// keeps the others' until they are applied (applyCarriedLocked).
func (p *Plane) carryUsers(us []envUsers) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range us {
		k := envKey{u.App, u.Env}
		if e := p.envs[k]; e != nil {
			e.proxy.CarryUsers(u.Revisions)
			continue
		}
		if p.carried == nil {
			p.carried = map[envKey][]proxy.UserWindow{}
		}
		p.carried[k] = append(p.carried[k], u.Revisions...)
	}
}

// applyCarriedLocked gives next's proxy the users carried for it: those
// of an earlier process, or of the proxy it replaces (a moved listener).
// Callers hold p.mu and have set next's tables.
func (p *Plane) applyCarriedLocked(k envKey, cur, next *env) {
	if ws, ok := p.carried[k]; ok {
		next.proxy.CarryUsers(ws)
		delete(p.carried, k)
	}
	if cur != nil && cur.proxy != next.proxy {
		next.proxy.CarryUsers(cur.proxy.UserWindows())
	}
}

// writeUsers writes us to dir's UsersFile atomically; nothing when us is
// empty.
func writeUsers(dir string, us []envUsers) error {
	if len(us) == 0 {
		return nil
	}
	b, err := json.Marshal(us)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, UsersFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("keep the active users for the next data plane: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dir, UsersFile))
}

// takeUsers reads and removes dir's UsersFile; none when it does not exist.
func takeUsers(dir string) ([]envUsers, error) {
	path := filepath.Join(dir, UsersFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the active users left by the last data plane: %w", err)
	}
	_ = os.Remove(path)
	var us []envUsers
	if err := json.Unmarshal(b, &us); err != nil {
		return nil, fmt.Errorf("%s: %w (the active users of the last data plane are not carried)", path, err)
	}
	return us, nil
}
