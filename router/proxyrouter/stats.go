package proxyrouter

import (
	"time"

	"github.com/gantry-dev/gantry/proxy"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router"
)

// latencyBounds are the proxy histogram's bucket bounds, shared by every
// RevisionMetrics.
var latencyBounds = func() []time.Duration {
	b := make([]time.Duration, proxy.HistogramBuckets)
	for i := range b {
		b[i] = proxy.UpperBound(i)
	}
	return b
}()

// RevisionMetrics implements rollout.MetricSource from the proxy's
// counters of each revision's primary instances.
func (r *Router) RevisionMetrics(app, env string) map[int]rollout.RevisionMetrics {
	return r.GroupMetrics(app, env, rollout.GroupPrimary)
}

// GroupMetrics implements rollout.GroupMetricSource: the proxy's counters
// of each revision's group.
func (r *Router) GroupMetrics(app, env, group string) map[int]rollout.RevisionMetrics {
	r.mu.Lock()
	e, ok := r.envs[envKey{app, env}]
	r.mu.Unlock()
	if !ok {
		return nil
	}
	out := map[int]rollout.RevisionMetrics{}
	for _, s := range e.proxy.Stats() {
		if s.Revision == 0 || s.Group != group {
			continue
		}
		out[s.Revision] = rollout.RevisionMetrics{
			Requests: s.Requests, Errors: s.Status5xx, ClientClosed: s.ClientClosed,
			LatencyBounds: latencyBounds, LatencyCounts: s.Latency.Counts[:],
		}
	}
	return out
}

// Stats implements router.Router, each revision's groups apart. Revisions
// with a share but no request yet are reported too.
func (r *Router) Stats(app, env string) []router.RevisionStats {
	r.mu.Lock()
	e, ok := r.envs[envKey{app, env}]
	if !ok {
		r.mu.Unlock()
		return nil
	}
	shares, p := e.shares, e.proxy
	r.mu.Unlock()
	out := []router.RevisionStats{}
	seen := map[router.Key]bool{}
	for _, s := range p.Stats() {
		k := router.Key{Revision: s.Revision, Group: s.Group}
		seen[k] = true
		out = append(out, router.RevisionStats{
			Revision:     s.Revision,
			Group:        s.Group,
			Weight:       shares[k],
			Requests:     s.Requests,
			Errors:       s.Status5xx, // the proxy's own 502/503/504 are among them
			ClientClosed: s.ClientClosed,
			InFlight:     s.InFlight,
			P50:          s.Latency.Quantile(0.50),
			P95:          s.Latency.Quantile(0.95),
			P99:          s.Latency.Quantile(0.99),
		})
	}
	for k, w := range shares {
		if !seen[k] {
			out = append(out, router.RevisionStats{Revision: k.Revision, Group: k.Group, Weight: w})
		}
	}
	return out
}
