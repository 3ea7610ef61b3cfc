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

// RevisionMetrics implements rollout.MetricSource from the proxy's counters.
func (r *Router) RevisionMetrics(app, env string) map[int]rollout.RevisionMetrics {
	r.mu.Lock()
	e, ok := r.envs[envKey{app, env}]
	r.mu.Unlock()
	if !ok {
		return nil
	}
	out := map[int]rollout.RevisionMetrics{}
	for _, s := range e.proxy.Stats() {
		if s.Revision == 0 {
			continue
		}
		out[s.Revision] = rollout.RevisionMetrics{
			Requests: s.Requests, Errors: s.Status5xx, ClientClosed: s.ClientClosed,
			LatencyBounds: latencyBounds, LatencyCounts: s.Latency.Counts[:],
		}
	}
	return out
}

// Stats implements router.Router. Revisions with a share but no request
// yet are reported too.
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
	seen := map[int]bool{}
	for _, s := range p.Stats() {
		seen[s.Revision] = true
		out = append(out, router.RevisionStats{
			Revision:     s.Revision,
			Weight:       shares[s.Revision],
			Requests:     s.Requests,
			Errors:       s.Status5xx, // the proxy's own 502/503/504 are among them
			ClientClosed: s.ClientClosed,
			InFlight:     s.InFlight,
			P50:          s.Latency.Quantile(0.50),
			P95:          s.Latency.Quantile(0.95),
			P99:          s.Latency.Quantile(0.99),
		})
	}
	for n, w := range shares {
		if !seen[n] {
			out = append(out, router.RevisionStats{Revision: n, Weight: w})
		}
	}
	return out
}
