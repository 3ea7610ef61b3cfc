package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router"
	"github.com/gantry-dev/gantry/router/kuberouter"
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
	kube          *kubeConnection
	event         func(rollout.Event)

	mu      sync.Mutex
	routers map[spec.KubernetesRouterType]*kuberouter.Router
	envs    map[envKey]router.Router
	specs   map[envKey]*spec.Kubernetes
}

var (
	_ router.Router             = (*envRouters)(nil)
	_ rollout.GroupMetricSource = (*envRouters)(nil)
)

func newEnvRouters(own router.Router, kube *kubeConnection, event func(rollout.Event)) *envRouters {
	return &envRouters{Router: own, kube: kube, event: event, routers: map[spec.KubernetesRouterType]*kuberouter.Router{},
		envs: map[envKey]router.Router{}, specs: map[envKey]*spec.Kubernetes{}}
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

// kubeRouter returns the Kubernetes router of type t, made on first use.
func (m *envRouters) kubeRouter(t spec.KubernetesRouterType) (*kuberouter.Router, error) {
	m.mu.Lock()
	r, ok := m.routers[t]
	m.mu.Unlock()
	if ok {
		return r, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := m.kube.cluster(ctx)
	if err != nil {
		return nil, err
	}
	o := kuberouter.Options{Cluster: c, Spec: m.specOf, Event: m.event}
	switch t {
	case spec.RouterService:
		r, err = kuberouter.NewService(o)
	case spec.RouterGatewayAPI:
		r, err = kuberouter.NewGateway(o)
	case spec.RouterIngressNginx:
		r, err = kuberouter.NewIngressNginx(o)
	default:
		err = fmt.Errorf("unknown router type %q; use %s, %s or %s", t, spec.RouterService, spec.RouterGatewayAPI, spec.RouterIngressNginx)
	}
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.routers[t]; ok {
		return cur, nil
	}
	m.routers[t] = r
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

// Open implements router.Router on the environment's router.
func (m *envRouters) Open(e router.Environment) error { return m.of(e.App, e.Name).Open(e) }

// SetTraffic implements rollout.Router on the environment's router.
func (m *envRouters) SetTraffic(app, env string, t rollout.Traffic) error {
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
	kube := make([]*kuberouter.Router, 0, len(m.routers))
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
