package proxy

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/gantry-dev/gantry/metrics/routelabel"
)

// routeCounts returns the requests and 5xx per revision and route label
// once the proxy has recorded want requests in all.
func routeCounts(t *testing.T, p *Proxy, want uint64) map[string][2]uint64 {
	t.Helper()
	eventually(t, "every request counted per route", func() bool {
		var n uint64
		for _, s := range p.RouteStats() {
			n += s.Requests
		}
		return n == want
	})
	out := map[string][2]uint64{}
	for _, s := range p.RouteStats() {
		if s.Requests > 0 {
			out[strconv.Itoa(s.Revision)+" "+s.Version+" "+s.Route] = [2]uint64{s.Requests, s.Status5xx}
		}
	}
	return out
}

func TestProxy_RouteStats(t *testing.T) {
	up := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/users/7" {
			w.WriteHeader(500)
		}
	}))
	p := startProxy(t, Options{})
	tb := table(rev(1, 1, up))
	tb.RouteTemplates = []string{"/users/{id}", "/users/{id}/orders"}
	p.SetTable(tb)
	c := newClient(t)
	for _, path := range []string{"/users/1", "/users/7?x=1", "/users/2/orders", "/", "/nope/users/1"} {
		get(t, c, "http://"+p.Addr()+path)
	}
	got := routeCounts(t, p, 5)
	want := map[string][2]uint64{
		"1 v1 /users/{id}":        {2, 1},
		"1 v1 /users/{id}/orders": {1, 0},
		"1 v1 other":              {2, 0},
	}
	if len(got) != len(want) {
		t.Errorf("route counters = %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("route %q: requests, 5xx = %v, want %v (all: %v)", k, got[k], w, got)
		}
	}
	if s := settledStats(t, p, 1); s.Requests != 5 {
		t.Errorf("revision 1 counted %d requests, want 5 (route counters come in addition)", s.Requests)
	}
}

func TestProxy_RouteStatsBounded(t *testing.T) {
	up := startUpstream(t, nameServer("a"))
	p := startProxy(t, Options{Logf: func(string, ...any) {}})
	tb := table(rev(1, 1, up))
	// Specs that change their templates again and again: the labels stay bounded.
	for round := range 3 {
		tb.RouteTemplates = nil
		for i := range routelabel.MaxTemplates {
			tb.RouteTemplates = append(tb.RouteTemplates, "/r"+strconv.Itoa(round)+"/"+strconv.Itoa(i))
		}
		p.SetTable(tb)
	}
	if got, want := p.DroppedRouteLabels(), uint64(2*routelabel.MaxTemplates); got != want {
		t.Errorf("DroppedRouteLabels = %d, want %d", got, want)
	}
	c := newClient(t)
	get(t, c, "http://"+p.Addr()+"/r2/5") // a dropped template: counted as other
	get(t, c, "http://"+p.Addr()+"/r0/5") // admitted in the first round, no longer in the table
	got := routeCounts(t, p, 2)
	if got["1 v1 other"] != [2]uint64{2, 0} || len(got) != 1 {
		t.Errorf("route counters = %v, want both requests under other", got)
	}
	labels := map[string]bool{}
	for _, s := range p.RouteStats() {
		labels[s.Route] = true
	}
	if len(labels) != routelabel.MaxTemplates+1 {
		t.Errorf("%d route labels, want %d (the bound plus other)", len(labels), routelabel.MaxTemplates+1)
	}
}

// BenchmarkProxyRoutes is BenchmarkProxy with 20 route templates to match
// and count.
func BenchmarkProxyRoutes(b *testing.B) {
	stable := startRaw(b, fixedResponder("hello from stable\n"))
	canary := startRaw(b, fixedResponder("hello from canary\n"))
	p := startProxy(b, Options{Logf: func(string, ...any) {}})
	tb := table(rev(1, 95, stable.addr()), rev(2, 5, canary.addr()))
	for _, r := range []string{"users", "orders", "items", "carts", "sessions", "reports", "invoices", "products", "search", "hello"} {
		tb.RouteTemplates = append(tb.RouteTemplates, "/api/"+r+"/{id}", "/"+r)
	}
	p.SetTable(tb)
	benchmarkThrough(b, p.Addr())
}
