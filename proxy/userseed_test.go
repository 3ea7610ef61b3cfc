package proxy

import (
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/metrics/activeusers"
)

// TestProxy_ActiveUsersSeed: two proxies keyed with one installation's
// seed count the same 60 sessions alike, so their sketches merge into 60
// users; a proxy keyed with another seed hashes them elsewhere, and
// merging its sketch counts them twice.
func TestProxy_ActiveUsersSeed(t *testing.T) {
	up := startUpstream(t, nameServer("1"))
	seed, err := activeusers.NewSeed()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := activeusers.NewSeed()
	sketch := func(s activeusers.Seed) activeusers.Sketch {
		p := startProxy(t, Options{})
		tb := table(rev(1, 1, up))
		tb.UserCookie, tb.ActiveUsersWindow, tb.UserSeed = "session", time.Minute, s
		p.SetTable(tb)
		c := newClient(t)
		for i := range 60 {
			req, _ := http.NewRequest("GET", "http://"+p.Addr()+"/", nil)
			req.Header.Set("Cookie", "session=s"+strconv.Itoa(i))
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		u := p.ActiveUsers()
		if len(u) != 1 {
			t.Fatalf("active users %+v; want revision 1", u)
		}
		return u[0].Users
	}
	a, b, c := sketch(seed), sketch(seed), sketch(other)
	same := append(activeusers.Sketch(nil), a...)
	same.Merge(b)
	checkUsers(t, "two proxies of one installation, merged", same.Estimate(), 60)
	mixed := append(activeusers.Sketch(nil), a...)
	mixed.Merge(c)
	checkUsers(t, "two proxies keyed apart, merged", mixed.Estimate(), 120)
}
