package proxyrouter

import (
	"sort"

	"github.com/gantry-dev/gantry/proxy"
)

// EnvStats are one environment's proxy counters, read for exporters such
// as gantry's /metrics.
type EnvStats struct {
	App, Env string
	// Revisions are the main listener's per-revision counters, ordered by
	// revision (revision 0: requests no revision could take).
	Revisions []proxy.RevisionStats
	// Rejections are the requests refused for the client's fault, by reason.
	Rejections []proxy.Rejection
}

// AllStats returns the counters of every open environment, ordered by app
// and environment. It reads the proxies' atomic counters and takes no lock
// on the request path.
func (r *Router) AllStats() []EnvStats {
	r.mu.Lock()
	type open struct {
		k envKey
		p *proxy.Proxy
	}
	envs := make([]open, 0, len(r.envs))
	for k, e := range r.envs {
		envs = append(envs, open{k, e.proxy})
	}
	r.mu.Unlock()
	sort.Slice(envs, func(i, j int) bool {
		if envs[i].k.app != envs[j].k.app {
			return envs[i].k.app < envs[j].k.app
		}
		return envs[i].k.env < envs[j].k.env
	})
	out := make([]EnvStats, 0, len(envs))
	for _, e := range envs {
		out = append(out, EnvStats{App: e.k.app, Env: e.k.env, Revisions: e.p.Stats(), Rejections: e.p.Rejections()})
	}
	return out
}
