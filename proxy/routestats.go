package proxy

import (
	"sort"
	"sync/atomic"
	"time"

	"github.com/gantry-dev/gantry/metrics/routelabel"
)

// RouteStats are the cumulative counters of one revision's requests to one
// route template (Table.RouteTemplates) since the proxy started.
type RouteStats struct {
	// Revision, Group and Version are the revision's, as in RevisionStats.
	Revision int
	Group    string
	Version  string
	// Route is the template the requests' paths matched, or routelabel.Other.
	Route string
	// Requests, Status2xx..Status5xx and ClientClosed count as in
	// RevisionStats (requests ending in an upgrade are not counted here).
	Requests                                   uint64
	Status2xx, Status3xx, Status4xx, Status5xx uint64
	ClientClosed                               uint64
	// Latency is the requests' duration, as in RevisionStats.
	Latency Histogram
}

// routeKey names one revision group's counters of one route label.
type routeKey struct {
	statsKey
	route string
}

// routeStats is the live form of RouteStats.
type routeStats struct {
	key          routeKey
	rev          *revStats // for the version
	requests     atomic.Uint64
	class        [6]atomic.Uint64
	clientClosed atomic.Uint64
	latency      liveHistogram
}

func (s *routeStats) record(o outcome, d time.Duration) {
	countOutcome(o, &s.requests, &s.class, &s.clientClosed)
	s.latency.observe(d)
}

// countOutcome counts a finished request, its status class or its client
// going away.
func countOutcome(o outcome, requests *atomic.Uint64, class *[6]atomic.Uint64, clientClosed *atomic.Uint64) {
	requests.Add(1)
	switch {
	case o.clientClosed:
		clientClosed.Add(1)
	case o.status >= 100 && o.status < 600:
		class[o.status/100].Add(1)
	}
}

// routeLabels are a Proxy's route counters, kept for its life and bounded
// to routelabel.MaxTemplates labels plus routelabel.Other. Guarded by Proxy.mu.
type routeLabels struct {
	stats  map[routeKey]*routeStats
	labels map[string]bool // labels given counters
	// dropped counts templates refused because the bound was reached.
	dropped atomic.Uint64
}

// compileRoutes builds rt's matcher from templates, admitting only those
// within the bound, and gives each route its counters per label. Callers
// hold p.mu.
func (p *Proxy) compileRoutes(rt *routing, templates []string) {
	if len(templates) == 0 {
		return
	}
	rl := &p.routeLabels
	if rl.labels == nil {
		rl.labels, rl.stats = map[string]bool{}, map[routeKey]*routeStats{}
	}
	kept := make([]string, 0, len(templates))
	for _, t := range templates {
		if !rl.labels[t] {
			if len(rl.labels) >= routelabel.MaxTemplates {
				rl.dropped.Add(1)
				p.logf("route template %q dropped: this listener already counts %d route labels", t, routelabel.MaxTemplates)
				continue
			}
			rl.labels[t] = true
		}
		kept = append(kept, t)
	}
	m, err := routelabel.New(kept)
	if err != nil {
		p.logf("route templates ignored: %v", err)
		return
	}
	rt.paths = m
	for _, r := range rt.routes {
		r.byPath = make([]*routeStats, len(kept)+1)
		for i := range r.byPath {
			label := routelabel.Other
			if i < len(kept) {
				label = kept[i]
			}
			k := routeKey{statsKey{r.revision, r.stats.group}, label}
			s := rl.stats[k]
			if s == nil {
				s = &routeStats{key: k, rev: r.stats}
				rl.stats[k] = s
			}
			r.byPath[i] = s
		}
		r.paths = m
	}
}

// pathIndex returns the index of path's label in the routes' byPath; 0
// without templates.
func (rt *routing) pathIndex(path []byte) int {
	if rt.paths == nil {
		return 0
	}
	if i := rt.paths.Match(path); i >= 0 {
		return i
	}
	return len(rt.paths.Templates())
}

// recordPath records a request to r under the label at index i of the
// routing whose matcher is m.
func (r *route) recordPath(m *routelabel.Matcher, i int, o outcome, d time.Duration) {
	if r.paths != m || m == nil {
		return // no templates, or the table changed under the request
	}
	r.byPath[i].record(o, d)
}

// RouteStats returns a snapshot of every route label's counters, ordered
// by revision, group and route; none without Table.RouteTemplates.
func (p *Proxy) RouteStats() []RouteStats {
	p.mu.Lock()
	all := make([]*routeStats, 0, len(p.routeLabels.stats))
	for _, s := range p.routeLabels.stats {
		all = append(all, s)
	}
	p.mu.Unlock()
	out := make([]RouteStats, 0, len(all))
	for _, s := range all {
		rs := RouteStats{
			Revision: s.key.revision, Group: s.key.group, Route: s.key.route,
			Requests: s.requests.Load(), Status2xx: s.class[2].Load(), Status3xx: s.class[3].Load(),
			Status4xx: s.class[4].Load(), Status5xx: s.class[5].Load(), ClientClosed: s.clientClosed.Load(),
			Latency: s.latency.snapshot(),
		}
		if v := s.rev.version.Load(); v != nil {
			rs.Version = *v
		}
		out = append(out, rs)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Revision != b.Revision {
			return a.Revision < b.Revision
		}
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		return a.Route < b.Route
	})
	return out
}

// DroppedRouteLabels counts the route templates not given counters
// because the listener already counted routelabel.MaxTemplates labels.
func (p *Proxy) DroppedRouteLabels() uint64 { return p.routeLabels.dropped.Load() }
