package proxy

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/gantry-dev/gantry/metrics/activeusers"
	"github.com/gantry-dev/gantry/metrics/routelabel"
)

// Table is the routing table of one proxy: which revisions take traffic, in
// what shares, on which endpoints.
type Table struct {
	// Revisions lists the revisions that may take traffic. Order does not
	// matter. Empty: every request gets 503.
	Revisions []Route
	// RouteTemplates, when set, count every revision's requests per route
	// template as well (see package metrics/routelabel: "/users/{id}"; paths
	// no template matches count as "other"). Templates that do not parse
	// are logged and ignored; at most routelabel.MaxTemplates distinct ones
	// are counted over the proxy's life (RouteStats, DroppedRouteLabels).
	// Empty: no per-route counters.
	RouteTemplates []string
	// ActiveUsersWindow is the window ActiveUsers counts each revision's
	// distinct users over, from activeusers.MinWindow to MaxWindow (out of
	// bounds: logged, and the default used). Zero: activeusers.DefaultWindow
	// (5 minutes).
	ActiveUsersWindow time.Duration
	// UserCookie names a cookie whose value identifies a user (such as the
	// app's session cookie) for ActiveUsers; requests without it count by
	// client address. Empty: users are client addresses.
	UserCookie string
	// UserSeed keys the hash of users' identities (activeusers.Seed): the
	// installation's, so that the sketches of every proxy of it merge and
	// cannot be inflated by chosen identities. Zero: the public zero seed.
	// A connection counted by address keeps the hash it first took.
	UserSeed activeusers.Seed
}

// Route is one revision's place in the table.
type Route struct {
	// Revision is the revision number (> 0).
	Revision int
	// Group names a second group of the revision's instances that is
	// routed and counted apart (a canary's like-for-like baseline);
	// empty: the revision's primary instances. A table lists each
	// revision and group once.
	Group string
	// Version is the revision's version label, carried into the stats.
	Version string
	// Weight is the revision's relative share of new requests: a revision
	// gets Weight/sum(Weights) of them. Zero (or negative) weight, or no
	// endpoints, means the revision gets nothing (sticky clients included).
	Weight int
	// Endpoints are the ready instances of the revision.
	Endpoints []Endpoint
}

// Endpoint is one ready instance.
type Endpoint struct {
	// ID names the instance in logs.
	ID string
	// Addr is the instance's host:port.
	Addr string
}

// routing is the compiled, immutable form of a Table read by the request
// path through an atomic.Pointer.
type routing struct {
	routes []*route // revisions with weight > 0 and at least one endpoint
	total  int      // sum of the routes' weights
	// endpoints counts the endpoints of all routes (bounds retries).
	endpoints int
	// paths maps request paths to route labels; nil without templates.
	paths *routelabel.Matcher
	// userCookie is Table.UserCookie; userSeed Table.UserSeed.
	userCookie string
	userSeed   activeusers.Seed
}

// route is a compiled Route.
type route struct {
	revision  int
	cum       int // cumulative weight: this route takes picks in [cum-weight, cum)
	endpoints []*endpoint
	stats     *revStats
	cookieVal []byte // the sticky cookie value naming this revision
	setCookie []byte // "Set-Cookie: …\r\n" line pinning a client here
	// byPath are the counters per route label, indexed as the routing's
	// pathIndex; paths is the routing's matcher they follow.
	byPath []*routeStats
	paths  *routelabel.Matcher
}

// pick chooses a route by weight. It returns nil when no route can take traffic.
func (rt *routing) pick() *route {
	switch len(rt.routes) {
	case 0:
		return nil
	case 1:
		return rt.routes[0]
	}
	n := rand.IntN(rt.total)
	for _, r := range rt.routes {
		if n < r.cum {
			return r
		}
	}
	return rt.routes[len(rt.routes)-1]
}

// choose returns the route for a request whose sticky cookie holds
// sticky (nil: none): the route the cookie names, else one picked by
// weight (nil when none can take traffic). stuck is the route the cookie
// named, nil if none: a response from another route sets the cookie.
func (rt *routing) choose(sticky []byte) (r, stuck *route) {
	if sticky != nil {
		stuck = rt.byCookie(sticky)
	}
	if stuck != nil {
		return stuck, stuck
	}
	return rt.pick(), nil
}

// byCookie returns the route whose sticky cookie value is v, or nil.
func (rt *routing) byCookie(v []byte) *route {
	for _, r := range rt.routes {
		if string(r.cookieVal) == string(v) {
			return r
		}
	}
	return nil
}

// endpoint chooses an endpoint of r by power of two choices on in-flight
// requests, skipping those in tried. It returns nil when every endpoint has
// been tried.
func (r *route) endpoint(tried []*endpoint) *endpoint {
	eps := r.endpoints
	if len(eps) == 1 {
		if contains(tried, eps[0]) {
			return nil
		}
		return eps[0]
	}
	if len(tried) == 0 {
		i := rand.IntN(len(eps))
		j := rand.IntN(len(eps) - 1)
		if j >= i {
			j++
		}
		a, b := eps[i], eps[j]
		if b.inFlight.Load() < a.inFlight.Load() {
			return b
		}
		return a
	}
	// Retry: the least loaded endpoint not yet tried.
	var best *endpoint
	for _, e := range eps {
		if contains(tried, e) {
			continue
		}
		if best == nil || e.inFlight.Load() < best.inFlight.Load() {
			best = e
		}
	}
	return best
}

func contains(list []*endpoint, e *endpoint) bool {
	for _, x := range list {
		if x == e {
			return true
		}
	}
	return false
}

// compile builds the routing for t. Callers hold p.mu; endpoints are shared
// with the previous routing when their address is unchanged.
func (p *Proxy) compile(t Table) *routing {
	rt := &routing{userCookie: t.UserCookie, userSeed: t.UserSeed}
	for _, r := range t.Revisions {
		stats := p.statsFor(statsKey{r.Revision, r.Group}, r.Version)
		if r.Weight <= 0 || len(r.Endpoints) == 0 {
			continue
		}
		cr := &route{revision: r.Revision, stats: stats}
		seen := make(map[string]bool, len(r.Endpoints))
		for _, e := range r.Endpoints {
			if e.Addr == "" || seen[e.Addr] {
				continue
			}
			seen[e.Addr] = true
			cr.endpoints = append(cr.endpoints, p.endpointFor(e))
		}
		if len(cr.endpoints) == 0 {
			continue
		}
		rt.total += r.Weight
		cr.cum = rt.total
		cr.cookieVal = []byte(strconv.Itoa(r.Revision))
		if r.Group != "" {
			cr.cookieVal = append(cr.cookieVal, "-"+r.Group...)
		}
		if p.opts.StickyCookie != "" {
			cr.setCookie = []byte("Set-Cookie: " + p.opts.StickyCookie + "=" + string(cr.cookieVal) + "; Path=/; HttpOnly\r\n")
		}
		rt.endpoints += len(cr.endpoints)
		rt.routes = append(rt.routes, cr)
	}
	p.compileRoutes(rt, t.RouteTemplates)
	return rt
}

// other returns a route with an endpoint not in tried, or nil.
func (rt *routing) other(tried []*endpoint) *route {
	for _, r := range rt.routes {
		if r.endpoint(tried) != nil {
			return r
		}
	}
	return nil
}
