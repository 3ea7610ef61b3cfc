package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// envBackends is the leader's backend: every registered backend, running,
// each environment sent to the one its spec names (environments[].backend).
type envBackends struct {
	registry backend.Registry
	running  map[string]backend.Backend // by name
	names    []string                   // of running, sorted

	mu   sync.Mutex
	envs map[envKey]string // backend name per environment, from applied specs
}

var (
	_ backend.Backend      = (*envBackends)(nil)
	_ rollout.GroupBackend = (*envBackends)(nil)
)

// startBackends makes every backend of the registry with o.
func startBackends(reg backend.Registry, o backend.Options) (*envBackends, error) {
	m := &envBackends{registry: reg, running: map[string]backend.Backend{}, envs: map[envKey]string{}}
	for _, name := range reg.Names() {
		b, err := reg[name](o)
		if err != nil {
			m.Release()
			return nil, fmt.Errorf("start the %s backend: %w", name, err)
		}
		m.running[name] = b
		m.names = append(m.names, name)
	}
	return m, nil
}

// assign records which backend runs each environment of app. A backend
// this server does not run is an error naming the field and the known
// backends, and nothing is recorded.
func (m *envBackends) assign(app spec.App) error {
	for i, e := range app.Environments {
		if _, err := m.registry.Lookup(e.BackendName()); err != nil {
			return fmt.Errorf("environment %s (environments[%d].backend): %w", e.Name, i, err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range app.Environments {
		m.envs[envKey{app.Metadata.Name, e.Name}] = e.BackendName()
	}
	return nil
}

// of returns the backend that runs app in env.
func (m *envBackends) of(app, env string) (backend.Backend, error) {
	m.mu.Lock()
	name, ok := m.envs[envKey{app, env}]
	m.mu.Unlock()
	if !ok {
		name = spec.BackendLocal
	}
	if b, ok := m.running[name]; ok {
		return b, nil
	}
	_, err := m.registry.Lookup(name)
	return nil, fmt.Errorf("environment %s of %s: %w", env, app, err)
}

// Scale implements rollout.Backend: the environment's backend runs n
// instances of rev, and any other backend still running some (the
// environment moved) stops them.
func (m *envBackends) Scale(ctx context.Context, rev rollout.Revision, n int) error {
	b, err := m.of(rev.App, rev.Env)
	if err != nil {
		return fmt.Errorf("scale revision %d: %w", rev.Number, err)
	}
	errs := []error{b.Scale(ctx, rev, n)}
	for _, name := range m.names {
		if other := m.running[name]; other != b && hasRevision(other.Instances(rev.App, rev.Env), rev.Number) {
			errs = append(errs, other.Scale(ctx, rev, 0))
		}
	}
	return errors.Join(errs...)
}

// RunsGroups implements rollout.GroupBackend: whether the environment's
// backend runs groups.
func (m *envBackends) RunsGroups(app, env string) bool {
	b, err := m.of(app, env)
	if err != nil {
		return false
	}
	gb, ok := b.(rollout.GroupBackend)
	return ok && gb.RunsGroups(app, env)
}

// ScaleGroup implements rollout.GroupBackend on the environment's backend.
func (m *envBackends) ScaleGroup(ctx context.Context, rev rollout.Revision, group string, n int) error {
	b, err := m.of(rev.App, rev.Env)
	if err != nil {
		return fmt.Errorf("scale revision %d %s: %w", rev.Number, group, err)
	}
	gb, ok := b.(rollout.GroupBackend)
	if !ok {
		if n == 0 {
			return nil
		}
		return fmt.Errorf("scale revision %d %s: the environment's backend runs no %s group", rev.Number, group, group)
	}
	return gb.ScaleGroup(ctx, rev, group, n)
}

func hasRevision(instances []rollout.Instance, n int) bool {
	return slices.ContainsFunc(instances, func(in rollout.Instance) bool { return in.Revision == n })
}

// Instances implements rollout.Backend: those of every backend, sorted by
// revision and ID.
func (m *envBackends) Instances(app, env string) []rollout.Instance {
	if len(m.names) == 1 {
		return m.running[m.names[0]].Instances(app, env)
	}
	var out []rollout.Instance
	for _, name := range m.names {
		out = append(out, m.running[name].Instances(app, env)...)
	}
	slices.SortFunc(out, func(x, y rollout.Instance) int {
		if x.Revision != y.Revision {
			return x.Revision - y.Revision
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out
}

// Logs implements backend.Backend: the environment's backend is asked
// first, then the others (an instance of before a move).
func (m *envBackends) Logs(ctx context.Context, app, env, instance string, o backend.LogOptions) (io.ReadCloser, error) {
	order := make([]backend.Backend, 0, len(m.names))
	if b, err := m.of(app, env); err == nil {
		order = append(order, b)
	}
	for _, name := range m.names {
		if b := m.running[name]; len(order) == 0 || b != order[0] {
			order = append(order, b)
		}
	}
	err := fmt.Errorf("log of instance %q of %s/%s: %w", instance, app, env, rollout.ErrNotFound)
	for _, b := range order {
		r, lerr := b.Logs(ctx, app, env, instance, o)
		if lerr == nil {
			return r, nil
		}
		if !errors.Is(lerr, rollout.ErrNotFound) {
			return nil, lerr
		}
		err = lerr
	}
	return nil, err
}

// Recover implements backend.Backend: every backend adopts what it left.
func (m *envBackends) Recover(ctx context.Context, lookup backend.RevisionLookup) error {
	var errs []error
	for _, name := range m.names {
		if err := m.running[name].Recover(ctx, lookup); err != nil {
			errs = append(errs, fmt.Errorf("%s backend: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// Release implements backend.Backend.
func (m *envBackends) Release() {
	for _, name := range m.names {
		m.running[name].Release()
	}
}

// Shutdown implements backend.Backend: every backend stops its instances.
func (m *envBackends) Shutdown(ctx context.Context) error {
	errs := make([]error, len(m.names))
	var wg sync.WaitGroup
	for i, name := range m.names {
		wg.Go(func() { errs[i] = m.running[name].Shutdown(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
