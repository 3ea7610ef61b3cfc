package server

import (
	"errors"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/metrics/activeusers"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router"
	"github.com/gantry-dev/gantry/spec"
)

// envKey names one app environment.
type envKey struct{ app, env string }

// routes connects the leader's router to its backend and to applied specs.
type routes struct {
	router router.Router
	// instances reads an environment's instances from the backend.
	instances func(app, env string) []rollout.Instance
	// describe says what a resolved spec's strategy needs, such as a
	// preview listener; ok false: no strategy of the spec's type.
	describe func(spec.AppSpec) (d rollout.Description, ok bool)
	// userSeed keys the hash of active users (usersSeed).
	userSeed activeusers.Seed

	// pushMu orders pushes: a snapshot read after another is also set after it.
	pushMu sync.Mutex
}

// open starts routing every environment of app, or updates those already
// routed, then gives each its current instances.
func (r *routes) open(app spec.App) error {
	if a, ok := r.router.(interface{ assign(spec.App) error }); ok {
		if err := a.assign(app); err != nil {
			return err
		}
	}
	var errs []error
	for _, e := range app.Environments {
		resolved, err := app.Resolve(e.Name)
		if err != nil {
			return err
		}
		d, _ := r.describe(resolved)
		re := router.Environment{
			App: app.Metadata.Name, Name: e.Name,
			Listen: e.Proxy.Listen, StickyCookie: e.Proxy.StickyCookie, RouteTemplates: resolved.Metrics.RouteTemplates(),
			UsersWindow: resolved.Metrics.UsersWindow(), UserCookie: resolved.Metrics.UserCookie(),
			UserSeed: r.userSeed,
			Preview:  d.Preview, PreviewListen: d.PreviewListen,
			Listener: listener(e.Proxy),
		}
		if err := r.router.Open(re); err != nil {
			errs = append(errs, envError{env: e.Name, err: err})
			continue
		}
		r.changed(app.Metadata.Name, e.Name)
	}
	return errors.Join(errs...)
}

// envError is an environment its router refused to open.
type envError struct {
	env string
	err error
}

func (e envError) Error() string { return e.err.Error() }
func (e envError) Unwrap() error { return e.err }

// listener maps an environment's proxy settings (validated) to the router's.
func listener(p spec.ProxyConfig) router.Listener {
	d := p.Timeouts.Durations()
	l := router.Listener{
		HeaderTimeout: d.Header, BodyTimeout: d.Body, ConnectTimeout: d.Connect,
		ResponseHeaderTimeout: d.ResponseHeader, UpstreamTimeout: d.Upstream,
		ClientWriteTimeout: d.ClientWrite, IdleTimeout: d.KeepAlive,
		MaxConns: p.MaxConnections,
	}
	for _, s := range p.TrustedProxies {
		if pfx, err := spec.ParseTrustedProxy(s); err == nil {
			l.TrustedProxies = append(l.TrustedProxies, pfx)
		}
	}
	if p.TLS != nil {
		l.CertFile, l.KeyFile = p.TLS.CertFile, p.TLS.KeyFile
	}
	return l
}

// changed gives the router an environment's instances as they are now;
// backends call it on every change of an instance's state or readiness.
func (r *routes) changed(app, env string) {
	r.pushMu.Lock()
	defer r.pushMu.Unlock()
	_ = r.router.SetInstances(app, env, r.instances(app, env))
}

// traffic reports an environment's address and traffic per revision for the API.
func (r *routes) traffic(app, env string) (string, []api.RevisionTraffic) {
	addr := r.router.Addr(app, env)
	if addr == "" {
		return "", nil
	}
	stats := r.router.Stats(app, env)
	out := make([]api.RevisionTraffic, 0, len(stats))
	for _, s := range stats {
		out = append(out, api.RevisionTraffic{
			Revision: s.Revision, Group: s.Group, Weight: s.Weight,
			Requests: s.Requests, Errors: s.Errors, ClientClosed: s.ClientClosed, InFlight: s.InFlight,
			P50: ms(s.P50), P95: ms(s.P95), P99: ms(s.P99), ActiveUsers: s.ActiveUsers,
		})
	}
	return addr, out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
