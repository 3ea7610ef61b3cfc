package remoterouter

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/dataplane"
	"github.com/gantry-dev/gantry/proxy"
)

// userCarry keeps, per environment, the user sketches last read from a
// listener that is gone (a data plane restarted, upgraded or taken over
// by its standby), and merges them into those of the listener now
// serving until the window has passed since that read: the users of the
// last window stay counted across a takeover. Users served between that
// read and the takeover are missed.
type userCarry struct {
	mu   sync.Mutex
	envs map[envKey]*envUsers
}

// envUsers is one environment's last read and the sketches carried.
type envUsers struct {
	origin  string // Counters.Origin of the last read
	read    time.Time
	last    []proxy.UserStats
	carried []carriedUsers
}

// carriedUsers are the sketches of a gone listener, counted until until.
type carriedUsers struct {
	until time.Time
	users []proxy.UserStats
}

// merge adds the carried sketches to c's environments, read at now, and
// remembers c's own.
func (u *userCarry) merge(c dataplane.Counters, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.envs == nil {
		u.envs = map[envKey]*envUsers{}
	}
	for i := range c.Environments {
		ec := &c.Environments[i]
		k, origin := envKey{ec.App, ec.Env}, c.Origin(*ec)
		eu := u.envs[k]
		if eu == nil {
			eu = &envUsers{}
			u.envs[k] = eu
		}
		if eu.origin != origin && len(eu.last) > 0 {
			eu.carried = append(eu.carried, carriedUsers{until: eu.read.Add(longestWindow(eu.last)), users: eu.last})
		}
		eu.origin, eu.read, eu.last = origin, now, slices.Clone(ec.Users)
		eu.carried = slices.DeleteFunc(eu.carried, func(cu carriedUsers) bool { return !now.Before(cu.until) })
		for _, cu := range eu.carried {
			ec.Users = mergeUsers(ec.Users, cu.users)
		}
	}
}

// mergeUsers returns the users of into and from, merged per revision and
// group; the sketches of into are copied before they change.
func mergeUsers(into, from []proxy.UserStats) []proxy.UserStats {
	for _, f := range from {
		i := slices.IndexFunc(into, func(s proxy.UserStats) bool { return s.Revision == f.Revision && s.Group == f.Group })
		if i < 0 {
			into = append(into, f)
			continue
		}
		merged := slices.Clone(into[i].Users)
		merged.Merge(f.Users)
		into[i].Users = merged
	}
	slices.SortFunc(into, func(a, b proxy.UserStats) int {
		return cmp.Or(cmp.Compare(a.Revision, b.Revision), cmp.Compare(a.Group, b.Group))
	})
	return into
}

// longestWindow is the longest window of users.
func longestWindow(users []proxy.UserStats) time.Duration {
	var d time.Duration
	for _, s := range users {
		d = max(d, s.Window)
	}
	return d
}
