package proxy

import (
	"errors"
	"net"
	"time"

	"github.com/gantry-dev/gantry/metrics/routelabel"
)

// forward routes the request in c.req, exchanges it with an endpoint and
// records the outcome. It reports whether the client connection may carry
// another request.
func (c *clientConn) forward(start time.Time) bool {
	rt := c.p.routing.Load()
	r, stuck := rt.choose(c.req.sticky)
	if r == nil {
		return c.noEndpoint(start)
	}
	paths, pi := rt.paths, rt.pathIndex(c.req.path)
	t, err := c.connect(rt, r)
	if t.uc == nil {
		if err == nil { // every endpoint left the table meanwhile
			return c.noEndpoint(start)
		}
		return c.connectFailed(r, err, start, paths, pi)
	}
	st := t.route.stats
	st.inFlight.Add(1)
	c.countUser(st, start)
	var setCookie []byte
	if t.route != stuck {
		setCookie = t.route.setCookie
	}
	o, keep := c.exchange(t, setCookie, st, start)
	finish(t, st, paths, pi, start, o)
	return keep
}

// finish ends an exchange with t: the outcome is recorded, then the
// in-flight counts go down, so that a reader who sees none in flight sees
// every finished request counted.
func finish(t target, st *revStats, paths *routelabel.Matcher, pi int, start time.Time, o outcome) {
	if !o.recorded && o.reject == reasonNone {
		d := time.Since(start)
		st.record(o, d)
		t.route.recordPath(paths, pi, o, d)
	}
	t.ep.inFlight.Add(-1)
	st.inFlight.Add(-1)
}

// target is where a request goes: a route, one of its endpoints and a
// connection to it.
type target struct {
	route  *route
	ep     *endpoint
	uc     *upstreamConn
	reused bool // uc came from the idle pool
}

// connect returns a connection to an endpoint of r, or of another route
// when every endpoint of r refuses. It tries each endpoint at most once and
// only retries failures to connect, which no backend can have seen. On
// success the endpoint's in-flight count has been incremented.
func (c *clientConn) connect(rt *routing, r *route) (target, error) {
	tried := c.tried[:0]
	var lastErr error
	if c.ev.preTried != nil {
		// An event loop found this endpoint refusing (see evloop_linux.go).
		tried, lastErr = append(tried, c.ev.preTried), c.ev.preErr
		c.ev.preTried, c.ev.preErr = nil, nil
	}
	for len(tried) < len(c.tried) {
		ep := r.endpoint(tried)
		if ep == nil {
			if r = rt.other(tried); r == nil {
				break
			}
			continue
		}
		tried = append(tried, ep)
		ep.inFlight.Add(1)
		if ep.removed.Load() { // left the table after we read it: route again
			ep.inFlight.Add(-1)
			rt = c.p.routing.Load()
			if r = rt.pick(); r == nil {
				break
			}
			continue
		}
		uc, reused, err := ep.get()
		if err == nil {
			return target{route: r, ep: ep, uc: uc, reused: reused}, nil
		}
		ep.inFlight.Add(-1)
		lastErr = err
		c.p.logf("connect to endpoint %s (%s) of revision %d: %v", ep.id, ep.addr, r.revision, err)
	}
	return target{}, lastErr
}

// noEndpoint answers 503 when no revision has a ready endpoint.
func (c *clientConn) noEndpoint(start time.Time) bool {
	st := c.p.noRoute
	st.inFlight.Add(1)
	keep := c.req.keepAlive() && !c.req.hasBody() && !c.p.shutting.Load()
	c.br.Discard(len(c.req.head))
	o := outcome{status: 503, proxyError: true}
	if err := c.writeError(503, keep); err != nil {
		o = outcome{clientClosed: true}
		keep = false
	}
	st.inFlight.Add(-1)
	st.record(o, time.Since(start))
	return keep
}

// connectFailed answers 502 (or 504 when connecting timed out) after every
// endpoint tried refused, charging the failure to route r.
func (c *clientConn) connectFailed(r *route, err error, start time.Time, paths *routelabel.Matcher, pi int) bool {
	code := 502
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		code = 504
	}
	st := r.stats
	st.inFlight.Add(1)
	c.countUser(st, start)
	keep := c.req.keepAlive() && !c.req.hasBody() && !c.p.shutting.Load()
	c.br.Discard(len(c.req.head))
	o := outcome{status: code, proxyError: true}
	if werr := c.writeError(code, keep); werr != nil {
		o = outcome{clientClosed: true}
		keep = false
	}
	st.inFlight.Add(-1)
	d := time.Since(start)
	st.record(o, d)
	r.recordPath(paths, pi, o, d)
	return keep
}
