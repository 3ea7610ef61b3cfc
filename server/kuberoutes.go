package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router"
	"github.com/gantry-dev/gantry/router/proxyrouter"
	"github.com/gantry-dev/gantry/spec"
)

// envRouters is the leader's router when the server runs the kubernetes
// backend: an environment whose spec says backend: kubernetes is routed by
// the Kubernetes router its spec.kubernetes.router names (a Service, a
// Gateway API HTTPRoute or ingress-nginx Ingresses), every other by the
// server's own router (the proxy). Which is which is settled by assign,
// before Open.
type envRouters struct {
	router.Router // the server's own, for environments not on Kubernetes
	registry      router.Registry

	mu      sync.Mutex
	routers map[string]router.Router // made from the registry, by type
	envs    map[envKey]router.Router
	specs   map[envKey]*spec.Kubernetes
	// unopened holds the environments whose router refused Open (its
	// CRDs removed, a permission taken away): their traffic cannot be set
	// until an Open retried by SetTraffic succeeds.
	unopened map[envKey]*unopened
}

// unopened is an environment whose router refused to open it.
type unopened struct {
	e    router.Environment
	err  error
	last time.Time // of the last attempt
}

// reopenEvery is how often SetTraffic tries again to open an environment
// its router refused.
const reopenEvery = 5 * time.Second

var (
	_ router.Router             = (*envRouters)(nil)
	_ rollout.GroupMetricSource = (*envRouters)(nil)
)

func newEnvRouters(own router.Router, kube *kubeConnection, event func(rollout.Event)) *envRouters {
	m := &envRouters{Router: own, routers: map[string]router.Router{},
		envs: map[envKey]router.Router{}, specs: map[envKey]*spec.Kubernetes{}, unopened: map[envKey]*unopened{}}
	m.registry = defaultRouters(kube, m.specOf, event)
	return m
}

// assign settles which router routes each environment of app, making the
// Kubernetes routers the spec names. It changes nothing in the cluster:
// Open checks there (the CRDs a router needs, gantry's permissions).
func (m *envRouters) assign(app spec.App) error {
	type choice struct {
		key envKey
		r   router.Router
		k   *spec.Kubernetes
	}
	var choices []choice
	for i, e := range app.Environments {
		key := envKey{app.Metadata.Name, e.Name}
		if e.BackendName() != spec.BackendKubernetes {
			choices = append(choices, choice{key: key, r: m.Router})
			continue
		}
		resolved, err := app.Resolve(e.Name)
		if err != nil {
			return err
		}
		r, err := m.kubeRouter(resolved.Kubernetes.RouterType())
		if err != nil {
			return fmt.Errorf("environment %s (environments[%d].kubernetes.router): %w", e.Name, i, err)
		}
		choices = append(choices, choice{key: key, r: r, k: resolved.Kubernetes})
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range choices {
		m.envs[c.key], m.specs[c.key] = c.r, c.k
	}
	return nil
}

// kubeRouter returns the router of type t, made from the registry on
// first use.
func (m *envRouters) kubeRouter(t spec.KubernetesRouterType) (router.Router, error) {
	m.mu.Lock()
	r, ok := m.routers[string(t)]
	m.mu.Unlock()
	if ok {
		return r, nil
	}
	f, err := m.registry.Lookup(string(t))
	if err != nil {
		return nil, err
	}
	r, err = f()
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.routers[string(t)]; ok {
		_ = r.Close(context.Background())
		return cur, nil
	}
	m.routers[string(t)] = r
	return r, nil
}

func (m *envRouters) specOf(app, env string) *spec.Kubernetes {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.specs[envKey{app, env}]
}

// of returns the router of app in env: the server's own until assigned.
func (m *envRouters) of(app, env string) router.Router {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.envs[envKey{app, env}]; ok {
		return r
	}
	return m.Router
}

// Open implements router.Router on the environment's router. An
// environment it refuses is remembered, and opened again by SetTraffic.
func (m *envRouters) Open(e router.Environment) error {
	r := m.of(e.App, e.Name)
	err := r.Open(e)
	key := envKey{e.App, e.Name}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		// An environment still open keeps its routes (a spec applied
		// again was refused); one not open waits to be opened again.
		if r.Addr(e.App, e.Name) == "" {
			m.unopened[key] = &unopened{e: e, err: err, last: time.Now()}
		}
		return err
	}
	delete(m.unopened, key)
	return nil
}

// reopen opens again an environment its router refused, at most every
// reopenEvery; it returns the refusal while it lasts.
func (m *envRouters) reopen(app, env string) error {
	key := envKey{app, env}
	m.mu.Lock()
	u, ok := m.unopened[key]
	if !ok {
		m.mu.Unlock()
		return nil
	}
	if time.Since(u.last) < reopenEvery {
		err := u.err
		m.mu.Unlock()
		return fmt.Errorf("environment not routed (its router refused it; tried again every %s): %w", reopenEvery, err)
	}
	e := u.e
	u.last = time.Now()
	m.mu.Unlock()
	return m.Open(e)
}

// SetTraffic implements rollout.Router on the environment's router.
func (m *envRouters) SetTraffic(app, env string, t rollout.Traffic) error {
	if err := m.reopen(app, env); err != nil {
		return err
	}
	return m.of(app, env).SetTraffic(app, env, t)
}

// RevisionMetrics implements rollout.MetricSource on the environment's router.
func (m *envRouters) RevisionMetrics(app, env string) map[int]rollout.RevisionMetrics {
	return m.of(app, env).RevisionMetrics(app, env)
}

// GroupMetrics implements rollout.GroupMetricSource where the environment's
// router counts groups; nil elsewhere.
func (m *envRouters) GroupMetrics(app, env, group string) map[int]rollout.RevisionMetrics {
	if g, ok := m.of(app, env).(rollout.GroupMetricSource); ok {
		return g.GroupMetrics(app, env, group)
	}
	return nil
}

// SetInstances implements router.Router on the environment's router.
func (m *envRouters) SetInstances(app, env string, instances []rollout.Instance) error {
	return m.of(app, env).SetInstances(app, env, instances)
}

// SetMaintenance implements router.Router on the environment's router.
func (m *envRouters) SetMaintenance(app, env string, on bool) error {
	if err := m.reopen(app, env); err != nil {
		return err
	}
	return m.of(app, env).SetMaintenance(app, env, on)
}

// Addr implements router.Router on the environment's router.
func (m *envRouters) Addr(app, env string) string { return m.of(app, env).Addr(app, env) }

// PreviewAddr implements router.Router on the environment's router.
func (m *envRouters) PreviewAddr(app, env string) string {
	return m.of(app, env).PreviewAddr(app, env)
}

// Stats implements router.Router on the environment's router.
func (m *envRouters) Stats(app, env string) []router.RevisionStats {
	return m.of(app, env).Stats(app, env)
}

// AllStats gives /metrics the proxy's counters, when the server's own
// router keeps them (the Kubernetes routers see no request).
func (m *envRouters) AllStats() []proxyrouter.EnvStats {
	if sr, ok := m.Router.(statsReader); ok {
		return sr.AllStats()
	}
	return nil
}

// Close implements router.Router: every router closes (the Kubernetes
// routers leave their objects in place).
func (m *envRouters) Close(ctx context.Context) error {
	m.mu.Lock()
	kube := make([]router.Router, 0, len(m.routers))
	for _, r := range m.routers {
		kube = append(kube, r)
	}
	m.mu.Unlock()
	errs := []error{m.Router.Close(ctx)}
	for _, r := range kube {
		errs = append(errs, r.Close(ctx))
	}
	return errors.Join(errs...)
}

// ownRouter is the server's own router behind r (the proxy or the data
// plane), for what only it reports.
func ownRouter(r router.Router) router.Router {
	if m, ok := r.(*envRouters); ok {
		return m.Router
	}
	return r
}

// routerRefused tells, as a Warning RouterUnavailable event per
// environment, that the router of app refused to open it while this
// server took the lead (err from routes.open).
func (s *Server) routerRefused(app string, err error) {
	var envs []envError
	var multi interface{ Unwrap() []error }
	if errors.As(err, &multi) {
		for _, e := range multi.Unwrap() {
			var ee envError
			if errors.As(e, &ee) {
				envs = append(envs, ee)
			}
		}
	}
	if len(envs) == 0 {
		envs = []envError{{err: err}}
	}
	for _, e := range envs {
		s.opts.Logf("app %s, environment %s: not routed: %v", app, e.env, e.err)
		s.recordEvent(rollout.Event{App: app, Env: e.env, Type: rollout.Warning, Reason: rollout.ReasonRouterUnavailable,
			Message: fmt.Sprintf("the router refused the environment: %v; its traffic waits (tried again every %s), the other apps go on", e.err, reopenEvery)})
	}
}

// routedGate refuses new rollouts (deploy, undo, retry) of an environment
// whose router refused it, trying to open it again first: a rollout that
// cannot set its traffic must not run.
type routedGate struct {
	api.Engine
	m *envRouters
}

// gateRouted wraps e with routedGate when r routes environments through
// the routers their specs name.
func gateRouted(e api.Engine, r router.Router) api.Engine {
	if m, ok := r.(*envRouters); ok {
		return routedGate{Engine: e, m: m}
	}
	return e
}

func (g routedGate) check(app, env string) error {
	if err := g.m.reopen(app, env); err != nil {
		return fmt.Errorf("%w: new rollouts of %s/%s wait for its router: %v", rollout.ErrConflict, app, env, err)
	}
	return nil
}

// Deploy implements api.Engine.
func (g routedGate) Deploy(ctx context.Context, req rollout.DeployRequest) (rollout.Rollout, error) {
	if err := g.check(req.App, req.Env); err != nil {
		return rollout.Rollout{}, err
	}
	return g.Engine.Deploy(ctx, req)
}

// Undo implements api.Engine.
func (g routedGate) Undo(ctx context.Context, app, env string, toRevision int, actor string) (rollout.Rollout, error) {
	if err := g.check(app, env); err != nil {
		return rollout.Rollout{}, err
	}
	return g.Engine.Undo(ctx, app, env, toRevision, actor)
}

// Retry implements api.Engine.
func (g routedGate) Retry(ctx context.Context, req rollout.CommandRequest) (rollout.Rollout, error) {
	if err := g.check(req.App, req.Env); err != nil {
		return rollout.Rollout{}, err
	}
	return g.Engine.Retry(ctx, req)
}
