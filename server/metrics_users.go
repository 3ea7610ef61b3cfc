package server

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-dev/gantry/router/proxyrouter"
)

var activeUsersDesc = prometheus.NewDesc("gantry_active_users",
	"Distinct users a revision served over the last window (spec.metrics.activeUsers.window, default 5m): client addresses, or the values of spec.metrics.activeUsers.cookie; estimated with a HyperLogLog sketch of 4096 registers (standard error 1.6%).",
	revisionLabels, nil)

// collectUsers reports the active users of the revisions collectRevisions
// exported; a revision with no user during the window has no series.
func collectUsers(ch chan<- prometheus.Metric, e proxyrouter.EnvStats, exported map[int]bool) {
	for _, u := range e.Users {
		if !exported[u.Revision] {
			continue
		}
		ch <- prometheus.MustNewConstMetric(activeUsersDesc, prometheus.GaugeValue, u.Users.Estimate(),
			e.App, e.Env, strconv.Itoa(u.Revision), u.Version, u.Group)
	}
}
