package spec

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownEnvironment is returned (wrapped) by Resolve for an environment
// the App does not declare.
var ErrUnknownEnvironment = errors.New("unknown environment")

// Environment returns the environment called name.
func (a *App) Environment(name string) (Environment, bool) {
	for _, e := range a.Environments {
		if e.Name == name {
			return e, true
		}
	}
	return Environment{}, false
}

// EnvironmentNames returns the environments' names in promotion order.
func (a *App) EnvironmentNames() []string {
	names := make([]string, len(a.Environments))
	for i, e := range a.Environments {
		names[i] = e.Name
	}
	return names
}

// Resolve returns the AppSpec for the environment called env: a deep copy
// of spec with the environment's overrides applied (replicas replaced, env
// vars merged by name, resources merged field by field, strategy replaced)
// and every default set (see WithDefaults). The App should have passed
// validation; Resolve itself only fails for an unknown environment.
func (a *App) Resolve(env string) (AppSpec, error) {
	e, ok := a.Environment(env)
	if !ok {
		return AppSpec{}, fmt.Errorf("app %s: %w %q; known environments: %s",
			a.Metadata.Name, ErrUnknownEnvironment, env, strings.Join(a.EnvironmentNames(), ", "))
	}
	return a.Spec.withOverrides(e).WithDefaults(), nil
}

// withOverrides returns s with e's overrides applied; it shares nothing
// that WithDefaults does not copy.
func (s AppSpec) withOverrides(e Environment) AppSpec {
	s = s.clone()
	if e.Replicas != nil {
		s.Replicas = clonePtr(e.Replicas)
	}
	s.Workload.Env = mergeEnv(s.Workload.Env, e.Env)
	if e.Resources != nil {
		s.Resources.Requests = s.Resources.Requests.merge(e.Resources.Requests)
		s.Resources.Limits = s.Resources.Limits.merge(e.Resources.Limits)
	}
	if e.Strategy != nil {
		s.Strategy = e.Strategy.clone()
	}
	s.Database = s.Database.merge(e.Database)
	if e.Kubernetes != nil {
		s.Kubernetes = s.Kubernetes.merge(e.Kubernetes)
	}
	return s
}

// mergeEnv returns base with each of over's variables replacing the one of
// the same name in place, or appended when base has none.
func mergeEnv(base, over []EnvVar) []EnvVar {
	out := append([]EnvVar(nil), base...)
	for _, o := range over {
		replaced := false
		for i := range out {
			if out[i].Name == o.Name {
				out[i] = o
				replaced = true
			}
		}
		if !replaced {
			out = append(out, o)
		}
	}
	return out
}

// merge returns r with each quantity that o sets replacing r's.
func (r ResourceList) merge(o ResourceList) ResourceList {
	if o.Memory != "" {
		r.Memory, r.MemoryBytes = o.Memory, o.MemoryBytes
	}
	if o.CPU != "" {
		r.CPU, r.CPUMillis = o.CPU, o.CPUMillis
	}
	return r
}
