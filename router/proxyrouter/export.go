package proxyrouter

import (
	"github.com/gantry-dev/gantry/dataplane"
)

// EnvStats are one environment's proxy counters, read for exporters such
// as gantry's /metrics: its main listener's per-revision counters ordered
// by revision (revision 0: requests no revision could take), and the
// requests refused for the client's fault, by reason.
type EnvStats = dataplane.EnvCounters

// AllStats returns the counters of every open environment, ordered by app
// and environment. It reads the proxies' atomic counters and takes no lock
// on the request path.
func (r *Router) AllStats() []EnvStats { return r.Router.AllStats() }
