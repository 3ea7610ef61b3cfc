package remoterouter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/dataplane"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router"
)

// DataPlane is what the router programs: a *dataplane.Client, or a
// *dataplane.Plane in the same process.
type DataPlane interface {
	State(ctx context.Context) (dataplane.State, error)
	Apply(ctx context.Context, e dataplane.Environment) (dataplane.EnvStatus, error)
	Remove(ctx context.Context, app, name string) error
	Counters(ctx context.Context, app, name string) (dataplane.Counters, error)
	Drain(ctx context.Context, addr string) error
}

var (
	_ DataPlane = (*dataplane.Client)(nil)
	_ DataPlane = (*dataplane.Plane)(nil)
)

// Options configure a Router.
type Options struct {
	// DataPlane is the data plane programmed. Required.
	DataPlane DataPlane
	// Detach makes Close leave the data plane serving (gantry server:
	// the data plane outlives it). False: Close removes every environment
	// it opened.
	Detach bool
	// AdoptGrace is how long endpoints read back from the data plane keep
	// serving while the backend reports their instances as not ready yet
	// (adopted instances wait for their first probe). Zero: 30s.
	AdoptGrace time.Duration
	// Logf receives diagnostics; nil: silent.
	Logf func(format string, args ...any)
}

// Router programs a data plane. It is safe for concurrent use.
type Router struct {
	dp     DataPlane
	detach bool
	logf   func(string, ...any)

	mu   sync.Mutex
	envs map[envKey]*envRoute
	// users carries active users across data plane processes (users.go).
	users userCarry
}

var (
	_ router.Router             = (*Router)(nil)
	_ rollout.GroupMetricSource = (*Router)(nil)
)

type envKey struct{ app, env string }

// envRoute is one environment: what the desired state is built from and
// the last one the data plane applied.
type envRoute struct {
	// open: Open was called on this Router (not only read back).
	open      bool
	env       router.Environment
	instances []rollout.Instance
	// reported: SetInstances was called; before, the read-back routes stay.
	reported    bool
	traffic     rollout.Traffic
	maintenance bool
	// adopted are the endpoint addresses of the read-back table still in
	// their grace (see Options.AdoptGrace).
	adopted map[string]bool
	applied dataplane.Environment
	status  dataplane.EnvStatus
	// shares is the last table's share per revision and group, in percent.
	shares map[router.Key]float64
}

// New returns a Router of opts.DataPlane, reading back what it already
// serves.
func New(ctx context.Context, opts Options) (*Router, error) {
	if opts.DataPlane == nil {
		return nil, errors.New("remote router: no data plane")
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.AdoptGrace == 0 {
		opts.AdoptGrace = 30 * time.Second
	}
	r := &Router{dp: opts.DataPlane, detach: opts.Detach, logf: opts.Logf, envs: map[envKey]*envRoute{}}
	if err := r.Resync(ctx); err != nil {
		return nil, err
	}
	time.AfterFunc(opts.AdoptGrace, r.endGrace)
	return r, nil
}

// Resync reads the data plane's state. Environments it serves that this
// Router does not know are taken as they are (their tables keep serving);
// those this Router opened but the data plane lost (it restarted) are
// sent again. Call it when the data plane's boot ID changed.
func (r *Router) Resync(ctx context.Context) error {
	st, err := r.dp.State(ctx)
	if err != nil {
		return fmt.Errorf("read the data plane's state: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	held := map[envKey]bool{}
	for _, es := range st.Environments {
		k := envKey{es.App, es.Name}
		held[k] = true
		if e, ok := r.envs[k]; ok {
			e.applied, e.status = es.Environment, es.Status
			if e.open {
				// A restarted data plane may serve a slightly older table
				// (the one its predecessor's sockets were held with).
				held[k] = r.pushLocked(ctx, k, e) == nil
			}
			continue
		}
		e := &envRoute{applied: es.Environment, status: es.Status, traffic: es.Traffic, maintenance: es.Maintenance,
			adopted: map[string]bool{}}
		for _, rt := range append(es.Routes, previewRoutes(es.Environment)...) {
			for _, ep := range rt.Endpoints {
				e.adopted[ep.Addr] = true
			}
		}
		e.shares = router.Shares(es.Routes)
		r.envs[k] = e
	}
	var errs []error
	for k, e := range r.envs {
		if held[k] || !e.open {
			continue
		}
		r.logf("data plane lost %s/%s (restarted?): sending its state again", k.app, k.env)
		e.applied = dataplane.Environment{}
		if err := r.pushLocked(ctx, k, e); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func previewRoutes(e dataplane.Environment) []router.Route {
	if e.Preview == nil {
		return nil
	}
	return e.Preview.Routes
}

// endGrace rebuilds every table without the read-back endpoints' grace.
func (r *Router) endGrace() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, e := range r.envs {
		if len(e.adopted) == 0 {
			continue
		}
		e.adopted = nil
		if e.open {
			if err := r.pushLocked(context.Background(), k, e); err != nil {
				r.logf("%v", err)
			}
		}
	}
}

// Open implements router.Router.
func (r *Router) Open(env router.Environment) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := envKey{env.App, env.Name}
	e, ok := r.envs[k]
	if !ok {
		e = &envRoute{}
		r.envs[k] = e
	}
	prev, wasOpen := e.env, e.open
	e.env, e.open = env, true
	if err := r.pushLocked(context.Background(), k, e); err != nil {
		e.env, e.open = prev, wasOpen
		return err
	}
	return nil
}

// SetTraffic implements rollout.Router.
func (r *Router) SetTraffic(app, env string, t rollout.Traffic) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, err := r.openLocked(app, env)
	if err != nil {
		return err
	}
	e.traffic = t
	return r.pushLocked(context.Background(), envKey{app, env}, e)
}

// SetInstances implements router.Router.
func (r *Router) SetInstances(app, env string, instances []rollout.Instance) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.envs[envKey{app, env}]
	if !ok || !e.open {
		return nil
	}
	e.instances, e.reported = instances, true
	return r.pushLocked(context.Background(), envKey{app, env}, e)
}

// SetMaintenance implements router.Router.
func (r *Router) SetMaintenance(app, env string, on bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, err := r.openLocked(app, env)
	if err != nil {
		return err
	}
	e.maintenance = on
	return r.pushLocked(context.Background(), envKey{app, env}, e)
}

// Opened returns the environments opened on this Router (App and Name).
func (r *Router) Opened() []router.Environment {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []router.Environment
	for k, e := range r.envs {
		if e.open {
			out = append(out, router.Environment{App: k.app, Name: k.env})
		}
	}
	return out
}

func (r *Router) openLocked(app, env string) (*envRoute, error) {
	e, ok := r.envs[envKey{app, env}]
	if !ok || !e.open {
		return nil, fmt.Errorf("no proxy for %s/%s: the app is not applied on this server", app, env)
	}
	return e, nil
}
