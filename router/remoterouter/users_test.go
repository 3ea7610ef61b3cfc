package remoterouter

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/dataplane"
	"github.com/gantry-dev/gantry/metrics/activeusers"
	"github.com/gantry-dev/gantry/proxy"
)

// usersRead is a read of app web/prod from boot whose revision 1 served
// the users "u<from>".."u<to-1>".
func usersRead(boot string, from, to int) dataplane.Counters {
	var s activeusers.Sketch
	for i := from; i < to; i++ {
		s.Add(activeusers.Seed{}.Hash([]byte("u" + strconv.Itoa(i))))
	}
	return dataplane.Counters{Boot: dataplane.Boot{ID: boot}, Environments: []dataplane.EnvCounters{{
		App: "web", Env: "prod", Epoch: 1,
		Users: []proxy.UserStats{{Revision: 1, Version: "v1", Window: time.Minute, Users: s}},
	}}}
}

func TestUserCarry_merge(t *testing.T) {
	var u userCarry
	t0 := time.Now()
	estimate := func(c dataplane.Counters, at time.Duration) float64 {
		u.merge(c, t0.Add(at))
		if us := c.Environments[0].Users; len(us) == 1 {
			return us[0].Users.Estimate()
		}
		return -1
	}
	for _, tc := range []struct {
		step string
		read dataplane.Counters
		at   time.Duration
		want int
	}{
		{"first read", usersRead("a", 0, 1000), 0, 1000},
		{"same process", usersRead("a", 0, 1200), 10 * time.Second, 1200},
		{"taken over: the gone process's users stay", usersRead("b", 1000, 1500), 20 * time.Second, 1500},
		{"read again", usersRead("b", 1000, 1600), 60 * time.Second, 1600},
		{"a window after the last read of the gone process", usersRead("b", 1000, 1600), 71 * time.Second, 600},
	} {
		got := estimate(tc.read, tc.at)
		if bound := 3 * activeusers.StdError * float64(tc.want); math.Abs(got-float64(tc.want)) > bound {
			t.Errorf("%s: %.1f users; want %d ± %.0f", tc.step, got, tc.want, bound)
		}
	}
}
