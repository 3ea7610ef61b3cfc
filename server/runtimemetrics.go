package server

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-dev/gantry/proxy"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router/proxyrouter"
)

// maxRevisionsExported bounds the revisions /metrics reports per
// environment: the newest ones by number, plus revision 0. The proxy keeps
// every revision's counters for its life; older revisions take no traffic.
const maxRevisionsExported = 10

// scrapeTimeout bounds the state store query a scrape makes.
const scrapeTimeout = 5 * time.Second

var (
	// group is empty for a revision's primary instances and "baseline" for
	// a canary's like-for-like baseline (Prometheus drops empty labels).
	revisionLabels = []string{"app", "env", "revision", "version", "group"}
	instanceLabels = []string{"app", "env", "revision", "version", "instance"}

	rejectedDesc = prometheus.NewDesc("gantry_proxy_rejected_total",
		"Requests refused for the client's fault (malformed, timed out, over the connection limit), by reason; never counted to a revision.",
		[]string{"app", "env", "reason"}, nil)

	cpuDesc = prometheus.NewDesc("gantry_instance_cpu_cores",
		"CPU use of an instance's processes in cores, averaged over the backend's last sample period.", instanceLabels, nil)
	memoryDesc = prometheus.NewDesc("gantry_instance_memory_bytes",
		"Resident memory of an instance's processes.", instanceLabels, nil)
	restartsDesc = prometheus.NewDesc("gantry_instance_restarts_total",
		"Restarts of an instance after exits or liveness failures.", instanceLabels, nil)
	readyDesc = prometheus.NewDesc("gantry_instance_ready",
		"1 when the instance passes readiness and takes traffic, else 0.", instanceLabels, nil)

	rolloutsDesc = prometheus.NewDesc("gantry_rollouts",
		"Rollouts in progress (phase not final), by phase.", []string{"app", "env", "phase"}, nil)
)

// statsReader is what /metrics reads from the leader's router.
type statsReader interface{ AllStats() []proxyrouter.EnvStats }

// runtimeCollector reports, at scrape time, from the proxy's counters read
// once per scrape (src.currentEnvs; the per-revision and per-route
// families are src's seriesTable's): the rejections, the dropped route
// labels and the active users; and the backends' instance stats and the
// active rollouts. Nothing is reported while the server follows.
type runtimeCollector struct {
	s   *Server
	src *metricsSource
}

// read returns the proxy's counters of every environment; nil while the
// server follows.
func (c runtimeCollector) read() []proxyrouter.EnvStats {
	parts := c.s.leading()
	if parts.routes == nil {
		return nil
	}
	sr, ok := parts.routes.router.(statsReader)
	if !ok {
		return nil
	}
	return sr.AllStats()
}

// Describe implements prometheus.Collector.
func (c runtimeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{rejectedDesc, droppedSeriesDesc, activeUsersDesc,
		cpuDesc, memoryDesc, restartsDesc, readyDesc, rolloutsDesc} {
		ch <- d
	}
	for _, d := range instanceFileDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c runtimeCollector) Collect(ch chan<- prometheus.Metric) {
	parts := c.s.leading()
	if parts.routes == nil {
		return
	}
	envs := c.src.currentEnvs()
	for i := range envs {
		e := &envs[i]
		collectProxyExtras(ch, e)
		if parts.backend != nil {
			collectInstances(ch, e.App, e.Env, parts.backend)
		}
	}
	c.collectRollouts(ch)
}

// exportedRevisions returns the revisions /metrics reports of an
// environment, revision 0 and the newest maxRevisionsExported, and their
// numbers.
func exportedRevisions(e *proxyrouter.EnvStats) ([]proxy.RevisionStats, map[int]bool) {
	revs := e.Revisions // ordered by revision
	keep := revs
	if n := len(revs); n > maxRevisionsExported+1 {
		keep = revs[n-maxRevisionsExported:]
		if revs[0].Revision == 0 {
			keep = append([]proxy.RevisionStats{revs[0]}, keep...)
		}
	}
	exported := make(map[int]bool, len(keep))
	for _, s := range keep {
		exported[s.Revision] = true
	}
	return keep, exported
}

// collectProxyExtras reports one environment's rejections, dropped route
// labels and, for the revisions exportedRevisions keeps, active users.
func collectProxyExtras(ch chan<- prometheus.Metric, e *proxyrouter.EnvStats) {
	for _, r := range e.Rejections {
		ch <- prometheus.MustNewConstMetric(rejectedDesc, prometheus.CounterValue, float64(r.Count), e.App, e.Env, r.Reason.String())
	}
	if len(e.Routes) > 0 || e.DroppedRouteLabels > 0 {
		ch <- prometheus.MustNewConstMetric(droppedSeriesDesc, prometheus.CounterValue, float64(e.DroppedRouteLabels), e.App, e.Env, "route")
	}
	_, exported := exportedRevisions(e)
	collectUsers(ch, *e, exported)
}

// revisionBounds are the classic bucket bounds of
// gantry_request_duration_seconds, as the proxy's bucket indexes: one per
// doubling of its log-linear histogram (four buckets per doubling), 21
// bounds, 100µs..105s.
var revisionBounds = everyNth(4)

// collectInstances reports the backend's stats of one environment's instances.
func collectInstances(ch chan<- prometheus.Metric, app, env string, b *envBackends) {
	for _, in := range b.Instances(app, env) {
		lv := []string{app, env, strconv.Itoa(in.Revision), in.Version, in.ID}
		ready := 0.0
		if in.Ready {
			ready = 1
		}
		ch <- prometheus.MustNewConstMetric(cpuDesc, prometheus.GaugeValue, float64(in.CPUMillis)/1000, lv...)
		ch <- prometheus.MustNewConstMetric(memoryDesc, prometheus.GaugeValue, float64(in.RSSBytes), lv...)
		ch <- prometheus.MustNewConstMetric(restartsDesc, prometheus.CounterValue, float64(in.Restarts), lv...)
		ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, ready, lv...)
		collectInstanceFiles(ch, in, lv)
	}
}

// collectRollouts reports the rollouts in progress by phase.
func (c runtimeCollector) collectRollouts(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	rs, err := c.s.store.ListRollouts(ctx, rollout.RolloutFilter{Active: true})
	if err != nil {
		ch <- prometheus.NewInvalidMetric(rolloutsDesc, err)
		return
	}
	type key struct{ app, env, phase string }
	n := map[key]int{}
	for _, r := range rs {
		n[key{r.App, r.Env, r.Phase.String()}]++
	}
	for k, v := range n {
		ch <- prometheus.MustNewConstMetric(rolloutsDesc, prometheus.GaugeValue, float64(v), k.app, k.env, k.phase)
	}
}
