package proxy

import (
	"sort"
	"sync/atomic"
	"time"

	"github.com/gantry-dev/gantry/metrics/activeusers"
)

// RevisionStats are the cumulative counters of one revision since the proxy
// started. Revision 0 collects the requests no revision could take (503 when
// no revision has a ready endpoint).
type RevisionStats struct {
	// Revision is the revision number; 0 for requests that found no revision.
	Revision int
	// Group is the route's group within the revision (Route.Group); empty
	// for its primary instances.
	Group string
	// Version is the revision's version label as last set by SetTable.
	Version string
	// Requests counts finished requests, whatever their outcome.
	Requests uint64
	// Status2xx..Status5xx count responses sent to clients by status class,
	// including responses the proxy produced itself (see ProxyErrors).
	Status2xx, Status3xx, Status4xx, Status5xx uint64
	// ClientClosed counts requests whose client went away before the
	// response was delivered (logged as 499). They are never counted as 5xx.
	ClientClosed uint64
	// ProxyErrors counts the 502, 503 and 504 responses the proxy produced
	// itself (endpoint unreachable, upstream failed mid-response, no ready
	// endpoint). They are also counted in Status5xx.
	ProxyErrors uint64
	// InFlight is the number of requests being served right now.
	InFlight int64
	// Latency is the distribution of request durations, measured from the
	// moment the request head has been read to the moment the last byte of
	// the response body has been handed to the client socket. Upgraded
	// (WebSocket) connections record the time to the 101 response.
	Latency Histogram
}

// revStats is the live, atomically updated form of RevisionStats. One exists
// per revision number and group for the life of the Proxy.
type revStats struct {
	revision int
	group    string
	version  atomic.Pointer[string]

	requests     atomic.Uint64
	class        [6]atomic.Uint64 // index = status/100; 0 unused
	clientClosed atomic.Uint64
	proxyErrors  atomic.Uint64
	inFlight     atomic.Int64
	latency      liveHistogram
	users        activeusers.Window // distinct users over the table's window (users.go)
}

// outcome is how one request ended, as recorded in the stats.
type outcome struct {
	status       int  // status sent to the client; 0 if none
	clientClosed bool // the client went away
	proxyError   bool // the proxy produced the status itself
	recorded     bool // already recorded (upgrades record at the 101)
	// reject is set when the request was refused for the client's fault
	// after it was routed: it is counted in Proxy.Rejections, not here.
	reject Reason
}

func (s *revStats) record(o outcome, d time.Duration) {
	countOutcome(o, &s.requests, &s.class, &s.clientClosed)
	if o.proxyError {
		s.proxyErrors.Add(1)
	}
	s.latency.observe(d)
}

func (s *revStats) snapshot() RevisionStats {
	rs := RevisionStats{
		Revision:     s.revision,
		Group:        s.group,
		Requests:     s.requests.Load(),
		Status2xx:    s.class[2].Load(),
		Status3xx:    s.class[3].Load(),
		Status4xx:    s.class[4].Load(),
		Status5xx:    s.class[5].Load(),
		ClientClosed: s.clientClosed.Load(),
		ProxyErrors:  s.proxyErrors.Load(),
		InFlight:     s.inFlight.Load(),
		Latency:      s.latency.snapshot(),
	}
	if v := s.version.Load(); v != nil {
		rs.Version = *v
	}
	return rs
}

// InFlight returns the number of requests being served right now over every
// revision (the sum of Stats' InFlight), without taking a snapshot: the
// cheap read for a frequent health poll.
func (p *Proxy) InFlight() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n int64
	for _, s := range p.stats {
		n += s.inFlight.Load()
	}
	return n
}

// Stats returns a snapshot of every revision's cumulative counters, ordered
// by revision number, then group (primary first). Revisions removed from
// the table keep their counters.
func (p *Proxy) Stats() []RevisionStats {
	p.mu.Lock()
	all := make([]*revStats, 0, len(p.stats))
	for _, s := range p.stats {
		all = append(all, s)
	}
	p.mu.Unlock()
	out := make([]RevisionStats, 0, len(all))
	for _, s := range all {
		out = append(out, s.snapshot())
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Revision != out[j].Revision {
			return out[i].Revision < out[j].Revision
		}
		return out[i].Group < out[j].Group
	})
	return out
}

// statsKey names a revision's group in the stats.
type statsKey struct {
	revision int
	group    string
}

// statsFor returns the live stats of a revision's group, creating them.
// Callers hold p.mu.
func (p *Proxy) statsFor(k statsKey, version string) *revStats {
	s := p.stats[k]
	if s == nil {
		s = &revStats{revision: k.revision, group: k.group}
		p.stats[k] = s
	}
	if version != "" || s.version.Load() == nil {
		v := version
		s.version.Store(&v)
	}
	return s
}
