package server

import (
	"context"
	"fmt"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/proxy"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// trafficRouter is the rollout.Router of the embedded default: one gantry
// proxy per app and environment. It combines the engine's traffic split
// with the backend's ready instances into the proxy's routing table, and
// rebuilds that table whenever either changes.
type trafficRouter struct {
	instances func(app, env string) []rollout.Instance
	logf      func(string, ...any)

	mu   sync.Mutex
	envs map[envKey]*envRoute
}

type envKey struct{ app, env string }

type envRoute struct {
	listen string
	proxy  *proxy.Proxy
	// preview serves the revision a blue-green release is testing, before
	// the switch; nil when the environment's strategy is not blue-green.
	preview       *proxy.Proxy
	previewListen string
	traffic       rollout.Traffic
	// weights is the last table's share per revision, in percent.
	weights map[int]float64
	// maintenance empties the table: every request gets 503 + Retry-After
	// (a database rollback is running; see maintenance.go).
	maintenance bool
}

var (
	_ rollout.Router       = (*trafficRouter)(nil)
	_ rollout.MetricSource = (*trafficRouter)(nil)
)

func newTrafficRouter(instances func(app, env string) []rollout.Instance, logf func(string, ...any)) *trafficRouter {
	return &trafficRouter{instances: instances, logf: logf, envs: map[envKey]*envRoute{}}
}

// open starts the proxy of every environment of app that has none yet.
// An environment whose listen address changed gets a new proxy.
func (r *trafficRouter) open(app spec.App) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range app.Environments {
		k := envKey{app.Metadata.Name, e.Name}
		listen := e.Proxy.Listen
		if listen == "" {
			listen = "127.0.0.1:0"
		}
		old, had := r.envs[k]
		if had && old.listen == listen {
			continue
		}
		// The new listener opens before the old one closes: an address that
		// cannot be had leaves the environment served as it was.
		p, err := proxy.Listen(proxy.Options{
			Addr:         listen,
			Name:         app.Metadata.Name + "/" + e.Name,
			StickyCookie: e.Proxy.StickyCookie,
			Logf:         r.logf,
		})
		if err != nil {
			return fmt.Errorf("environment %s: open proxy on %s (environments[].proxy.listen): %w", e.Name, listen, err)
		}
		route := &envRoute{listen: listen, proxy: p}
		if had {
			route.traffic, route.preview, route.previewListen = old.traffic, old.preview, old.previewListen
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = old.proxy.Shutdown(ctx)
			cancel()
		}
		r.envs[k] = route
	}
	for _, e := range app.Environments {
		k := envKey{app.Metadata.Name, e.Name}
		if err := r.openPreview(app, e.Name, r.envs[k]); err != nil {
			return err
		}
		r.rebuildLocked(k)
	}
	return nil
}

// openPreview opens (or closes) an environment's preview listener as its
// strategy asks: blue-green releases get one, at blueGreen.previewListen
// or a free loopback port.
func (r *trafficRouter) openPreview(app spec.App, env string, e *envRoute) error {
	resolved, err := app.Resolve(env)
	if err != nil {
		return err
	}
	want := ""
	if resolved.StrategyType() == spec.BlueGreen {
		want = "127.0.0.1:0"
		if bg := resolved.Strategy.BlueGreen; bg != nil && bg.PreviewListen != "" {
			want = bg.PreviewListen
		}
	}
	if e.preview != nil && e.previewListen == want {
		return nil
	}
	if e.preview != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = e.preview.Shutdown(ctx)
		cancel()
		e.preview, e.previewListen = nil, ""
	}
	if want == "" {
		return nil
	}
	p, err := proxy.Listen(proxy.Options{Addr: want, Name: app.Metadata.Name + "/" + env + " preview", Logf: r.logf})
	if err != nil {
		return fmt.Errorf("environment %s: open preview listener on %s (spec.strategy.blueGreen.previewListen): %w", env, want, err)
	}
	e.preview, e.previewListen = p, want
	return nil
}

// SetTraffic implements rollout.Router.
func (r *trafficRouter) SetTraffic(app, env string, t rollout.Traffic) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := envKey{app, env}
	e, ok := r.envs[k]
	if !ok {
		return fmt.Errorf("no proxy for %s/%s", app, env)
	}
	if sameTraffic(e.traffic, t) {
		return nil
	}
	e.traffic = t
	r.rebuildLocked(k)
	return nil
}

func sameTraffic(a, b rollout.Traffic) bool {
	if a.Preview != b.Preview || (a.Weights == nil) != (b.Weights == nil) || len(a.Weights) != len(b.Weights) {
		return false
	}
	for k, v := range a.Weights {
		if w, ok := b.Weights[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// rebuild recomputes an environment's routing table from its instances;
// the backend calls it on every change of an instance's readiness.
func (r *trafficRouter) rebuild(app, env string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rebuildLocked(envKey{app, env})
}

func (r *trafficRouter) rebuildLocked(k envKey) {
	e, ok := r.envs[k]
	if !ok {
		return
	}
	instances := r.instances(k.app, k.env)
	table, weights := buildTable(instances, e.traffic)
	if e.maintenance {
		table, weights = proxy.Table{}, nil
	}
	e.weights = weights
	e.proxy.SetTable(table)
	if e.preview != nil {
		var preview []rollout.Instance
		for _, in := range instances {
			if in.Revision == e.traffic.Preview {
				preview = append(preview, in)
			}
		}
		t, _ := buildTable(preview, rollout.Traffic{})
		e.preview.SetTable(t)
	}
}

// previewAddr returns the address of an environment's preview listener, "" if none.
func (r *trafficRouter) previewAddr(app, env string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.envs[envKey{app, env}]; ok && e.preview != nil {
		return e.preview.Addr()
	}
	return ""
}

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
func (r *trafficRouter) RevisionMetrics(app, env string) map[int]rollout.RevisionMetrics {
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

// buildTable makes a proxy table: ready instances grouped by revision,
// weighted by t.Weights or, when it is nil or names no revision with a
// ready instance, evenly per instance.
func buildTable(instances []rollout.Instance, t rollout.Traffic) (proxy.Table, map[int]float64) {
	byRev := map[int]*proxy.Route{}
	for _, in := range instances {
		if !in.Ready || in.State != rollout.Running {
			continue
		}
		rt, ok := byRev[in.Revision]
		if !ok {
			rt = &proxy.Route{Revision: in.Revision, Version: in.Version}
			byRev[in.Revision] = rt
		}
		rt.Endpoints = append(rt.Endpoints, proxy.Endpoint{ID: in.ID, Addr: in.Addr})
	}
	weighted := false
	for n, w := range t.Weights {
		if rt, ok := byRev[n]; ok && w > 0 && len(rt.Endpoints) > 0 {
			weighted = true
		}
	}
	var table proxy.Table
	total := 0
	for n, rt := range byRev {
		if weighted {
			rt.Weight = t.Weights[n]
		} else {
			rt.Weight = len(rt.Endpoints)
		}
		total += rt.Weight
		table.Revisions = append(table.Revisions, *rt)
	}
	sort.Slice(table.Revisions, func(i, j int) bool { return table.Revisions[i].Revision < table.Revisions[j].Revision })
	weights := map[int]float64{}
	for _, rt := range table.Revisions {
		if total > 0 {
			weights[rt.Revision] = 100 * float64(rt.Weight) / float64(total)
		}
	}
	return table, weights
}

// drain waits until no request is in flight to addr on any proxy.
func (r *trafficRouter) drain(ctx context.Context, addr string) error {
	r.mu.Lock()
	proxies := make([]*proxy.Proxy, 0, len(r.envs))
	for _, e := range r.envs {
		proxies = append(proxies, e.proxy)
	}
	r.mu.Unlock()
	for _, p := range proxies {
		if err := p.WaitIdle(ctx, addr); err != nil {
			return err
		}
	}
	return nil
}

// traffic reports an environment's proxy address and per-revision traffic.
func (r *trafficRouter) traffic(app, env string) (string, []api.RevisionTraffic) {
	r.mu.Lock()
	e, ok := r.envs[envKey{app, env}]
	if !ok {
		r.mu.Unlock()
		return "", nil
	}
	weights := e.weights
	p := e.proxy
	r.mu.Unlock()
	var out []api.RevisionTraffic
	seen := map[int]bool{}
	for _, s := range p.Stats() {
		seen[s.Revision] = true
		out = append(out, api.RevisionTraffic{
			Revision:     s.Revision,
			Weight:       weights[s.Revision],
			Requests:     s.Requests,
			Errors:       s.Status5xx + s.ProxyErrors,
			ClientClosed: s.ClientClosed,
			InFlight:     s.InFlight,
			P50:          ms(s.Latency.Quantile(0.50)),
			P95:          ms(s.Latency.Quantile(0.95)),
			P99:          ms(s.Latency.Quantile(0.99)),
		})
	}
	for n, w := range weights {
		if !seen[n] {
			out = append(out, api.RevisionTraffic{Revision: n, Weight: w})
		}
	}
	return p.Addr(), out
}

// proxyAddr returns the address an environment's proxy listens on.
func (r *trafficRouter) proxyAddr(app, env string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.envs[envKey{app, env}]; ok {
		return e.proxy.Addr()
	}
	return ""
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// close shuts every proxy down, letting in-flight requests finish.
func (r *trafficRouter) close(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, e := range r.envs {
		if err := e.proxy.Shutdown(ctx); err != nil && err != net.ErrClosed {
			r.logf("proxy %s/%s: shutdown: %v", k.app, k.env, err)
		}
		if e.preview != nil {
			_ = e.preview.Shutdown(ctx)
		}
		delete(r.envs, k)
	}
}
