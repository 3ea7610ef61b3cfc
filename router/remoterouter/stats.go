package remoterouter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gantry-dev/gantry/dataplane"
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

// readTimeout bounds a read of the data plane's counters.
const readTimeout = 5 * time.Second

// counters reads one open environment's counters; ok false when it is not
// open or the data plane does not answer.
func (r *Router) counters(app, env string) (dataplane.Counters, dataplane.EnvCounters, map[router.Key]float64, bool) {
	r.mu.Lock()
	e, ok := r.envs[envKey{app, env}]
	var shares map[router.Key]float64
	if ok {
		shares = e.shares
	}
	r.mu.Unlock()
	if !ok || !e.open {
		return dataplane.Counters{}, dataplane.EnvCounters{}, nil, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	c, err := r.dp.Counters(ctx, app, env)
	if err != nil || len(c.Environments) == 0 {
		if err != nil {
			r.logf("read counters of %s/%s: %v", app, env, err)
		}
		return c, dataplane.EnvCounters{}, shares, false
	}
	r.users.merge(c, time.Now()) // the status API's active users carry a takeover too
	return c, c.Environments[0], shares, true
}

// RevisionMetrics implements rollout.MetricSource from the data plane's
// counters of each revision's primary instances; Origin is the data
// plane's boot and the listener's epoch, so a restarted data plane reads
// as counters that started again.
func (r *Router) RevisionMetrics(app, env string) map[int]rollout.RevisionMetrics {
	return r.GroupMetrics(app, env, rollout.GroupPrimary)
}

// GroupMetrics implements rollout.GroupMetricSource: the data plane's
// counters of each revision's group.
func (r *Router) GroupMetrics(app, env, group string) map[int]rollout.RevisionMetrics {
	c, ec, _, ok := r.counters(app, env)
	if !ok {
		return nil
	}
	origin := c.Origin(ec)
	out := map[int]rollout.RevisionMetrics{}
	for _, s := range ec.Revisions {
		if s.Revision == 0 || s.Group != group {
			continue
		}
		out[s.Revision] = rollout.RevisionMetrics{
			Requests: s.Requests, Errors: s.Status5xx, ClientClosed: s.ClientClosed,
			LatencyBounds: latencyBounds, LatencyCounts: s.Latency.Counts[:], Origin: origin,
		}
	}
	return out
}

// Stats implements router.Router, each revision's groups apart. Revisions
// with a share but no request yet are reported too. Nil when the environment is not open; only the
// shares when the data plane does not answer.
func (r *Router) Stats(app, env string) []router.RevisionStats {
	r.mu.Lock()
	e, ok := r.envs[envKey{app, env}]
	r.mu.Unlock()
	if !ok || !e.open {
		return nil
	}
	_, ec, shares, _ := r.counters(app, env)
	out := []router.RevisionStats{}
	seen := map[router.Key]bool{}
	users := map[router.Key]float64{}
	for _, u := range ec.Users {
		users[router.Key{Revision: u.Revision, Group: u.Group}] = u.Users.Estimate()
	}
	for _, s := range ec.Revisions {
		k := router.Key{Revision: s.Revision, Group: s.Group}
		seen[k] = true
		out = append(out, router.RevisionStats{
			Revision: s.Revision, Group: s.Group, Weight: shares[k],
			Requests: s.Requests, Errors: s.Status5xx, ClientClosed: s.ClientClosed, InFlight: s.InFlight,
			P50: s.Latency.Quantile(0.50), P95: s.Latency.Quantile(0.95), P99: s.Latency.Quantile(0.99),
			ActiveUsers: users[k],
		})
	}
	for k, w := range shares {
		if !seen[k] {
			out = append(out, router.RevisionStats{Revision: k.Revision, Group: k.Group, Weight: w})
		}
	}
	return out
}

// AllStats returns the counters of every environment the data plane
// serves, for /metrics; none when it does not answer.
func (r *Router) AllStats() []dataplane.EnvCounters {
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	c, err := r.dp.Counters(ctx, "", "")
	if err != nil {
		r.logf("read counters: %v", err)
		return nil
	}
	r.users.merge(c, time.Now())
	return c.Environments
}

// Drain implements router.Router.
func (r *Router) Drain(ctx context.Context, addr string) error {
	return r.dp.Drain(ctx, addr)
}

// Addr implements router.Router.
func (r *Router) Addr(app, env string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.envs[envKey{app, env}]; ok && e.open {
		return e.status.Addr
	}
	return ""
}

// PreviewAddr implements router.Router.
func (r *Router) PreviewAddr(app, env string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.envs[envKey{app, env}]; ok && e.open {
		return e.status.PreviewAddr
	}
	return ""
}

// Close implements router.Router. With Options.Detach the data plane keeps
// serving every environment; otherwise those this Router opened are removed.
func (r *Router) Close(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for k, e := range r.envs {
		if !r.detach && e.open {
			if err := r.dp.Remove(ctx, k.app, k.env); err != nil && !errors.Is(err, dataplane.ErrNotFound) {
				errs = append(errs, fmt.Errorf("remove %s/%s from the data plane: %w", k.app, k.env, err))
			}
		}
		delete(r.envs, k)
	}
	return errors.Join(errs...)
}
