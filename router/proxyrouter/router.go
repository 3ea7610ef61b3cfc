package proxyrouter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/proxy"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router"
)

// Options configure a Router.
type Options struct {
	// Logf receives the proxies' diagnostics; nil: silent.
	Logf func(format string, args ...any)
}

// Router routes every opened environment through its own gantry proxy. It
// is safe for concurrent use.
type Router struct {
	logf func(string, ...any)

	mu   sync.Mutex
	envs map[envKey]*envRoute
}

var (
	_ router.Router             = (*Router)(nil)
	_ rollout.GroupMetricSource = (*Router)(nil)
)

type envKey struct{ app, env string }

// envRoute is one environment's proxies and what their tables are built from.
type envRoute struct {
	listen string
	proxy  *proxy.Proxy
	// preview serves only the revision traffic.Preview names; nil when the
	// environment asked for no preview listener.
	preview       *proxy.Proxy
	previewListen string
	instances     []rollout.Instance
	traffic       rollout.Traffic
	// shares is the last table's share per revision and group, in percent.
	shares map[router.Key]float64
	// maintenance empties the table: every request gets 503 + Retry-After.
	maintenance bool
}

// New returns a Router with no environment open.
func New(opts Options) *Router {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	return &Router{logf: opts.Logf, envs: map[envKey]*envRoute{}}
}

// shutdownWait bounds how long a replaced listener lets its requests finish.
const shutdownWait = 5 * time.Second

// Open implements router.Router.
func (r *Router) Open(e router.Environment) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := envKey{e.App, e.Name}
	listen := orFree(e.Listen)
	old, had := r.envs[k]
	route := old
	if !had || old.listen != listen {
		opts := listenerOptions(e.Listener)
		opts.Addr, opts.Name, opts.StickyCookie, opts.Logf = listen, e.App+"/"+e.Name, e.StickyCookie, r.logf
		p, err := proxy.Listen(opts)
		if err != nil {
			return fmt.Errorf("environment %s: open proxy on %s (environments[].proxy.listen): %w", e.Name, listen, err)
		}
		route = &envRoute{listen: listen, proxy: p}
		if had {
			route.instances, route.traffic, route.maintenance = old.instances, old.traffic, old.maintenance
			route.preview, route.previewListen = old.preview, old.previewListen
			shutdown(old.proxy)
		}
		r.envs[k] = route
	}
	if err := r.openPreview(e, route); err != nil {
		return err
	}
	r.rebuildLocked(route)
	return nil
}

// openPreview opens, moves or closes an environment's preview listener as e asks.
func (r *Router) openPreview(e router.Environment, route *envRoute) error {
	want := ""
	if e.Preview {
		want = orFree(e.PreviewListen)
	}
	if route.previewListen == want {
		return nil
	}
	if want != "" {
		p, err := proxy.Listen(proxy.Options{Addr: want, Name: e.App + "/" + e.Name + " preview", Logf: r.logf})
		if err != nil {
			return fmt.Errorf("environment %s: open preview listener on %s (spec.strategy.blueGreen.previewListen): %w", e.Name, want, err)
		}
		if route.preview != nil {
			shutdown(route.preview)
		}
		route.preview, route.previewListen = p, want
		return nil
	}
	shutdown(route.preview)
	route.preview, route.previewListen = nil, ""
	return nil
}

// listenerOptions maps an environment's listener settings to the proxy's.
func listenerOptions(l router.Listener) proxy.Options {
	o := proxy.Options{
		HeaderTimeout: l.HeaderTimeout, BodyTimeout: l.BodyTimeout, DialTimeout: l.ConnectTimeout,
		ResponseHeaderTimeout: l.ResponseHeaderTimeout, UpstreamTimeout: l.UpstreamTimeout,
		ClientWriteTimeout: l.ClientWriteTimeout, IdleTimeout: l.IdleTimeout,
		MaxConns: l.MaxConns, TrustedProxies: l.TrustedProxies,
	}
	if l.CertFile != "" {
		o.TLS = &proxy.TLSFiles{CertFile: l.CertFile, KeyFile: l.KeyFile}
	}
	return o
}

func orFree(addr string) string {
	if addr == "" {
		return "127.0.0.1:0"
	}
	return addr
}

func shutdown(p *proxy.Proxy) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	_ = p.Shutdown(ctx)
}

// SetTraffic implements rollout.Router.
func (r *Router) SetTraffic(app, env string, t rollout.Traffic) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.envs[envKey{app, env}]
	if !ok {
		return fmt.Errorf("no proxy for %s/%s: the app is not applied on this server", app, env)
	}
	if sameTraffic(e.traffic, t) {
		return nil
	}
	e.traffic = t
	r.rebuildLocked(e)
	return nil
}

func sameTraffic(a, b rollout.Traffic) bool {
	if a.Preview != b.Preview || a.Baseline != b.Baseline || (a.Weights == nil) != (b.Weights == nil) || len(a.Weights) != len(b.Weights) {
		return false
	}
	for k, v := range a.Weights {
		if w, ok := b.Weights[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// SetInstances implements router.Router.
func (r *Router) SetInstances(app, env string, instances []rollout.Instance) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.envs[envKey{app, env}]; ok {
		e.instances = instances
		r.rebuildLocked(e)
	}
	return nil
}

// SetMaintenance implements router.Router.
func (r *Router) SetMaintenance(app, env string, on bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.envs[envKey{app, env}]
	if !ok {
		return fmt.Errorf("no proxy for %s/%s: the app is not applied on this server", app, env)
	}
	e.maintenance = on
	r.rebuildLocked(e)
	return nil
}

// rebuildLocked swaps an environment's tables for ones built from its
// instances and split.
func (r *Router) rebuildLocked(e *envRoute) {
	routes := router.Split(e.instances, e.traffic)
	if e.maintenance {
		routes = nil
	}
	e.shares = router.Shares(routes)
	e.proxy.SetTable(table(routes))
	if e.preview != nil {
		e.preview.SetTable(table(router.PreviewSplit(e.instances, e.traffic)))
	}
}

// table converts routes into a proxy table.
func table(routes []router.Route) proxy.Table {
	t := proxy.Table{Revisions: make([]proxy.Route, 0, len(routes))}
	for _, rt := range routes {
		pr := proxy.Route{Revision: rt.Revision, Group: rt.Group, Version: rt.Version, Weight: rt.Weight}
		for _, ep := range rt.Endpoints {
			pr.Endpoints = append(pr.Endpoints, proxy.Endpoint{ID: ep.ID, Addr: ep.Addr})
		}
		t.Revisions = append(t.Revisions, pr)
	}
	return t
}

// Drain implements router.Router.
func (r *Router) Drain(ctx context.Context, addr string) error {
	r.mu.Lock()
	proxies := make([]*proxy.Proxy, 0, 2*len(r.envs))
	for _, e := range r.envs {
		proxies = append(proxies, e.proxy)
		if e.preview != nil {
			proxies = append(proxies, e.preview)
		}
	}
	r.mu.Unlock()
	for _, p := range proxies {
		if err := p.WaitIdle(ctx, addr); err != nil {
			return err
		}
	}
	return nil
}

// Addr implements router.Router.
func (r *Router) Addr(app, env string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.envs[envKey{app, env}]; ok {
		return e.proxy.Addr()
	}
	return ""
}

// PreviewAddr implements router.Router.
func (r *Router) PreviewAddr(app, env string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.envs[envKey{app, env}]; ok && e.preview != nil {
		return e.preview.Addr()
	}
	return ""
}

// Close implements router.Router.
func (r *Router) Close(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for k, e := range r.envs {
		for _, p := range []*proxy.Proxy{e.proxy, e.preview} {
			if p == nil {
				continue
			}
			if err := p.Shutdown(ctx); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, fmt.Errorf("proxy %s/%s: shutdown: %w", k.app, k.env, err))
			}
		}
		delete(r.envs, k)
	}
	return errors.Join(errs...)
}
