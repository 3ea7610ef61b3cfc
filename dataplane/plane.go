package dataplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/proxy"
	"github.com/gantry-dev/gantry/router"
)

// Options configure a Plane.
type Options struct {
	// Logf receives the proxies' diagnostics; nil: silent.
	Logf func(format string, args ...any)
	// Binary is reported in Boot.Binary; empty: unknown.
	Binary string
	// Inherited are listening sockets handed over by an earlier process,
	// by their "app/env" and "app/env preview" keys, with the state they
	// served: Apply of that state serves them instead of binding.
	Inherited map[string]net.Listener
}

// Plane is the data plane: one gantry proxy per environment (and one per
// preview listener), each serving the routes of the last desired state
// applied. It is safe for concurrent use.
type Plane struct {
	boot Boot
	logf func(string, ...any)

	mu        sync.Mutex
	envs      map[envKey]*env
	inherited map[string]net.Listener
	closed    bool
	// frozen refuses desired states while the listeners are handed to a
	// new process.
	frozen bool
	// changed is closed and replaced at every change of the state (see
	// the listener stream).
	changed chan struct{}
	// streams are the listener streams being served.
	streams sync.WaitGroup
	// carried are users windows of an earlier process for environments
	// not applied yet (users.go).
	carried map[envKey][]proxy.UserWindow
}

type envKey struct{ app, env string }

func (k envKey) String() string { return k.app + "/" + k.env }

// env is one environment: what was applied and the proxies serving it.
type env struct {
	state   EnvState
	proxy   *proxy.Proxy
	preview *proxy.Proxy
}

// New returns a Plane with no environment, and a new boot ID.
func New(opts Options) *Plane {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	return &Plane{
		boot:      Boot{ID: hex.EncodeToString(id[:]), StartedAt: time.Now(), PID: os.Getpid(), Binary: opts.Binary},
		logf:      opts.Logf,
		envs:      map[envKey]*env{},
		inherited: opts.Inherited,
		changed:   make(chan struct{}),
	}
}

// Boot identifies this Plane's run.
func (p *Plane) Boot() Boot { return p.boot }

// shutdownWait bounds how long a replaced listener lets its requests finish.
const shutdownWait = 5 * time.Second

// Apply brings an environment to its desired state e: listeners opened or
// moved (the new one bound before the old one closes, so an address that
// cannot be had leaves the environment as it was and returns the error),
// tables swapped atomically.
func (p *Plane) Apply(_ context.Context, e Environment) (EnvStatus, error) {
	if e.App == "" || e.Name == "" || e.Version == 0 {
		return EnvStatus{}, fmt.Errorf("desired state %s/%s version %d: app, environment and a version > 0 are required", e.App, e.Name, e.Version)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.frozen {
		return EnvStatus{}, fmt.Errorf("%s: %w", e.App+"/"+e.Name, ErrBusy)
	}
	k := envKey{e.App, e.Name}
	cur := p.envs[k]
	if cur != nil {
		switch v := cur.state.Version; {
		case e.Version < v:
			return cur.state.Status, fmt.Errorf("%s: version %d is older than the applied %d: %w", k, e.Version, v, ErrStale)
		case e.Version == v && reflect.DeepEqual(e, cur.state.Environment):
			return cur.state.Status, nil
		case e.Version == v:
			return cur.state.Status, fmt.Errorf("%s: version %d was applied with other content: %w", k, v, ErrStale)
		}
	}
	next := &env{state: EnvState{Environment: e}}
	if cur != nil {
		next.proxy, next.preview, next.state.Status = cur.proxy, cur.preview, cur.state.Status
	}
	if cur == nil || orFree(cur.state.Listen) != orFree(e.Listen) {
		opts := proxyOptions(e.Listener)
		opts.Addr, opts.Name, opts.StickyCookie, opts.Logf = orFree(e.Listen), k.String(), e.StickyCookie, p.logf
		opts.Listener = p.takeInherited(k.String())
		opts.Table = mainTable(e)
		px, err := proxy.Listen(opts)
		if err != nil {
			return EnvStatus{}, fmt.Errorf("environment %s: open proxy on %s (environments[].proxy.listen): %w", e.Name, opts.Addr, err)
		}
		next.proxy = px
		next.state.Status.Epoch++
	}
	if err := p.openPreview(k, cur, next); err != nil {
		if cur == nil || next.proxy != cur.proxy {
			shutdown(next.proxy)
		}
		return EnvStatus{}, err
	}
	if cur != nil && cur.proxy != next.proxy {
		go shutdown(cur.proxy)
	}
	next.state.Status.Version = e.Version
	next.state.Status.Addr = next.proxy.Addr()
	next.state.Status.PreviewAddr = ""
	if next.preview != nil {
		next.state.Status.PreviewAddr = next.preview.Addr()
	}
	setTables(next)
	p.applyCarriedLocked(k, cur, next)
	p.envs[k] = next
	p.changedLocked()
	return next.state.Status, nil
}

// openPreview opens, moves or closes next's preview listener as its state asks.
func (p *Plane) openPreview(k envKey, cur, next *env) error {
	want, had := "", ""
	if pv := next.state.Preview; pv != nil {
		want = orFree(pv.Listen)
	}
	if cur != nil && cur.state.Preview != nil {
		had = orFree(cur.state.Preview.Listen)
	}
	if want == had {
		return nil
	}
	old := next.preview
	next.preview = nil
	if want != "" {
		opts := proxy.Options{Addr: want, Name: k.String() + " preview", Logf: p.logf, Listener: p.takeInherited(k.String() + " preview"),
			Table: table(next.state.Preview.Routes)}
		px, err := proxy.Listen(opts)
		if err != nil {
			return fmt.Errorf("environment %s: open preview listener on %s (spec.strategy.blueGreen.previewListen): %w", k.env, want, err)
		}
		next.preview = px
	}
	if old != nil {
		go shutdown(old)
	}
	return nil
}

// takeInherited returns the handed-over listener for key, once; nil if none.
func (p *Plane) takeInherited(key string) net.Listener {
	ln := p.inherited[key]
	delete(p.inherited, key)
	return ln
}

// setTables gives e's proxies the tables of its state.
func setTables(e *env) {
	e.proxy.SetTable(mainTable(e.state.Environment))
	if e.preview != nil {
		e.preview.SetTable(table(e.state.Preview.Routes))
	}
}

// mainTable is the main listener's table for e (no route in maintenance).
func mainTable(e Environment) proxy.Table {
	routes := e.Routes
	if e.Maintenance {
		routes = nil
	}
	t := table(routes)
	t.RouteTemplates = e.RouteTemplates
	t.ActiveUsersWindow, t.UserCookie, t.UserSeed = e.UsersWindow, e.UserCookie, e.UserSeed
	return t
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

// proxyOptions maps an environment's listener settings to the proxy's.
func proxyOptions(l router.Listener) proxy.Options {
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

func shutdown(px *proxy.Proxy) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	_ = px.Shutdown(ctx)
}

// Remove stops serving an environment, letting its requests in flight
// finish; an environment not applied is not an error.
func (p *Plane) Remove(_ context.Context, app, name string) error {
	p.mu.Lock()
	e := p.envs[envKey{app, name}]
	delete(p.envs, envKey{app, name})
	if e != nil {
		p.changedLocked()
	}
	p.mu.Unlock()
	if e != nil {
		shutdown(e.proxy)
		if e.preview != nil {
			shutdown(e.preview)
		}
	}
	return nil
}

// State returns every environment's applied state, ordered by app and name.
func (p *Plane) State(context.Context) (State, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := State{Boot: p.boot, Environments: make([]EnvState, 0, len(p.envs))}
	for _, e := range p.sortedLocked() {
		s.Environments = append(s.Environments, e.state)
	}
	return s, nil
}

func (p *Plane) sortedLocked() []*env {
	out := make([]*env, 0, len(p.envs))
	for _, e := range p.envs {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].state, out[j].state
		if a.App != b.App {
			return a.App < b.App
		}
		return a.Name < b.Name
	})
	return out
}

// Counters returns the counters of the environment app/name, or of every
// environment when app is empty. It reads the proxies' atomic counters and
// takes no lock on the request path.
func (p *Plane) Counters(_ context.Context, app, name string) (Counters, error) {
	p.mu.Lock()
	envs := p.sortedLocked()
	p.mu.Unlock()
	c := Counters{Boot: p.boot}
	for _, e := range envs {
		if app != "" && (e.state.App != app || e.state.Name != name) {
			continue
		}
		ec := EnvCounters{
			App: e.state.App, Env: e.state.Name, Epoch: e.state.Status.Epoch,
			Revisions: e.proxy.Stats(), Rejections: e.proxy.Rejections(), Users: e.proxy.ActiveUsers(),
		}
		if app == "" { // the exporters' read; the rollout engine's skips the routes
			ec.Routes, ec.DroppedRouteLabels = e.proxy.RouteStats(), e.proxy.DroppedRouteLabels()
		}
		c.Environments = append(c.Environments, ec)
	}
	return c, nil
}

// Check reports the boot and the requests in flight over every listener:
// the cheap read a supervisor polls.
func (p *Plane) Check(context.Context) (Liveness, error) {
	h := Liveness{Boot: p.boot}
	for _, px := range p.proxies() {
		h.InFlight += px.InFlight()
	}
	return h, nil
}

// Drain returns when no request is in flight to addr (host:port) in any
// environment, or with ctx's error.
func (p *Plane) Drain(ctx context.Context, addr string) error {
	for _, px := range p.proxies() {
		if err := px.WaitIdle(ctx, addr); err != nil {
			return err
		}
	}
	return nil
}

// proxies returns every listener's proxy.
func (p *Plane) proxies() []*proxy.Proxy {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*proxy.Proxy, 0, 2*len(p.envs))
	for _, e := range p.envs {
		out = append(out, e.proxy)
		if e.preview != nil {
			out = append(out, e.preview)
		}
	}
	return out
}

// Close stops every listener, letting requests in flight finish until ctx
// ends. The Plane refuses Apply afterwards.
func (p *Plane) Close(ctx context.Context) error { return p.close(ctx, false) }

// close is Close; handedOver: another process serves the same listening
// sockets now (proxy.HandOver: kept-alive clients move to it unharmed).
func (p *Plane) close(ctx context.Context, handedOver bool) error {
	p.mu.Lock()
	p.closed = true
	envs := p.envs
	p.envs = map[envKey]*env{}
	for _, ln := range p.inherited {
		ln.Close()
	}
	p.changedLocked()
	p.mu.Unlock()
	waitStreams(&p.streams, time.Second) // their last frame says: stopped on purpose
	var errs []error
	for k, e := range envs {
		for _, px := range []*proxy.Proxy{e.proxy, e.preview} {
			if px == nil {
				continue
			}
			stop := px.Shutdown
			if handedOver {
				stop = px.HandOver
			}
			if err := stop(ctx); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, fmt.Errorf("proxy %s: shutdown: %w", k, err))
			}
		}
	}
	return errors.Join(errs...)
}
