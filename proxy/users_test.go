package proxy

import (
	"io"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/internal/loopback"
	"github.com/gantry-dev/gantry/metrics/activeusers"
)

// usersOf returns the estimated active users of revision rev (primary group).
func usersOf(p *Proxy, rev int) float64 {
	for _, u := range p.ActiveUsers() {
		if u.Revision == rev && u.Group == "" {
			return u.Users.Estimate()
		}
	}
	return 0
}

// checkUsers fails t when the estimate is not within 3 standard errors of
// want (at least 1).
func checkUsers(t *testing.T, what string, got float64, want int) {
	t.Helper()
	if bound := math.Max(1, 3*activeusers.StdError*float64(want)); math.Abs(got-float64(want)) > bound {
		t.Errorf("%s: %.1f active users estimated; want %d ± %.0f", what, got, want, bound)
	}
}

// TestProxy_ActiveUsers sends requests from 300 loopback source addresses
// through a 50/50 split and compares each revision's estimate with the
// exact number of distinct addresses each served.
func TestProxy_ActiveUsers(t *testing.T) {
	stable := startUpstream(t, nameServer("1"))
	canary := startUpstream(t, nameServer("2"))
	p := startProxy(t, Options{})
	p.SetTable(table(rev(1, 1, stable), rev(2, 1, canary)))
	url := "http://" + p.Addr() + "/"

	const clients = 300
	var mu sync.Mutex
	served := map[string]map[int]bool{} // revision → clients
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c := loopback.Client(loopback.Addr(i))
			defer c.CloseIdleConnections()
			for range 3 {
				resp, err := c.Get(url)
				if err != nil {
					t.Errorf("client %v: %v", loopback.Addr(i), err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				if served[string(b)] == nil {
					served[string(b)] = map[int]bool{}
				}
				served[string(b)][i] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for r := 1; r <= 2; r++ {
		want := len(served[strconv.Itoa(r)])
		if want == 0 {
			t.Fatalf("revision %d served no client", r)
		}
		checkUsers(t, "revision "+strconv.Itoa(r), usersOf(p, r), want)
		t.Logf("revision %d: %d clients, %.1f estimated", r, want, usersOf(p, r))
	}
	for _, u := range p.ActiveUsers() {
		if u.Window != activeusers.DefaultWindow || u.Version != "v"+strconv.Itoa(u.Revision) {
			t.Errorf("revision %d: window %v, version %q; want %v, v%d", u.Revision, u.Window, u.Version, activeusers.DefaultWindow, u.Revision)
		}
	}
}

// TestProxy_ActiveUsersIdentity checks who counts as a user: the client a
// trusted proxy reports in X-Forwarded-For, and the table's user cookie.
func TestProxy_ActiveUsersIdentity(t *testing.T) {
	up := startUpstream(t, nameServer("1"))
	p := startProxy(t, Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}})
	tb := table(rev(1, 1, up))
	tb.UserCookie = "session"
	tb.ActiveUsersWindow = time.Minute
	p.SetTable(tb)
	c := newClient(t)
	send := func(header, value string) {
		req, _ := http.NewRequest("GET", "http://"+p.Addr()+"/", nil)
		req.Header.Set(header, value)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// 40 clients behind a trusted proxy (10.0.0.9, trusted too): the
	// client is the last untrusted entry; the first entries are spoofable
	// and ignored.
	for i := 0; i < 40; i++ {
		send("X-Forwarded-For", "198.51.100.1, 203.0.113."+strconv.Itoa(i)+", 10.0.0.9")
	}
	checkUsers(t, "clients behind a trusted proxy", usersOf(p, 1), 40)
	// 25 sessions, each twice, from one address.
	for i := 0; i < 50; i++ {
		send("Cookie", "theme=dark; session=s"+strconv.Itoa(i%25))
	}
	checkUsers(t, "clients and sessions", usersOf(p, 1), 65)
	if u := p.ActiveUsers(); len(u) != 1 || u[0].Window != time.Minute {
		t.Errorf("active users %+v; want revision 1 over 1m", u)
	}
}

func TestRequest_forwardedClientAllocs(t *testing.T) {
	var r request
	head := []byte("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.1, 203.0.113.5\r\nX-Forwarded-For: 10.1.2.3\r\nCookie: a=b; session=xyz\r\n\r\n")
	if reason := r.parse(head, "", "session"); reason != reasonNone {
		t.Fatal(reason)
	}
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	if got := string(r.forwardedClient(trusted)); got != "203.0.113.5" {
		t.Errorf("forwarded client %q; want 203.0.113.5", got)
	}
	if got := string(r.user); got != "xyz" || !r.hasXFF {
		t.Errorf("cookie session %q; want xyz", got)
	}
	if n := testing.AllocsPerRun(100, func() { r.parse(head, "", "session"); r.forwardedClient(trusted) }); n != 0 {
		t.Errorf("forwardedClient and cookie allocate %.0f times; want 0", n)
	}
}

// BenchmarkClientConn_countUser measures the request path's hook: a
// client already counted, by address (hash cached per connection) and
// behind a trusted proxy (X-Forwarded-For parsed and hashed per request).
func BenchmarkClientConn_countUser(b *testing.B) {
	p := startProxy(b, Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Logf: func(string, ...any) {}})
	st := p.noRoute
	start := time.Now()
	for _, tc := range []struct {
		name    string
		trusted bool
	}{{"address", false}, {"forwarded", true}} {
		b.Run(tc.name, func(b *testing.B) {
			c := &clientConn{p: p, fwd: forwarded{ip: []byte("192.0.2.10"), trusted: tc.trusted}}
			c.req.parse([]byte("GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: bench\r\nX-Forwarded-For: 203.0.113.5, 10.1.2.3\r\n\r\n"), "", "")
			b.ReportAllocs()
			for b.Loop() {
				c.countUser(st, start)
			}
		})
	}
}
