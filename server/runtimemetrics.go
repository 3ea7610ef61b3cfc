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

	requestsDesc = prometheus.NewDesc("gantry_requests_total",
		"Requests the proxy finished, by revision and status class (1xx..5xx, or client_closed for clients that went away first, logged as 499). Revision 0 carries requests no revision could take.",
		append(revisionLabels[:5:5], "code_class"), nil)
	proxyErrorsDesc = prometheus.NewDesc("gantry_proxy_errors_total",
		"502, 503 and 504 responses the proxy produced itself (also counted in gantry_requests_total{code_class=\"5xx\"}).",
		revisionLabels, nil)
	inFlightDesc = prometheus.NewDesc("gantry_requests_in_flight",
		"Requests being served right now.", revisionLabels, nil)
	durationDesc = prometheus.NewDesc("gantry_request_duration_seconds",
		"Time from the request head read to the response body handed to the client, one bucket per doubling from 100µs to about 105s.",
		revisionLabels, nil)
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

// runtimeCollector reads, at scrape time, the proxy's atomic per-revision
// counters, the backends' instance stats and the active rollouts. Nothing
// is reported while the server follows.
type runtimeCollector struct{ s *Server }

// Describe implements prometheus.Collector.
func (c runtimeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{requestsDesc, proxyErrorsDesc, inFlightDesc, durationDesc, rejectedDesc,
		cpuDesc, memoryDesc, restartsDesc, readyDesc, rolloutsDesc, activeUsersDesc} {
		ch <- d
	}
	for _, d := range append(routeDescs, instanceFileDescs...) {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c runtimeCollector) Collect(ch chan<- prometheus.Metric) {
	parts := c.s.leading()
	if parts.routes == nil {
		return
	}
	sr, ok := parts.routes.router.(statsReader)
	if !ok {
		return
	}
	for _, e := range sr.AllStats() {
		collectRevisions(ch, e)
		if parts.backend != nil {
			collectInstances(ch, e.App, e.Env, parts.backend)
		}
	}
	c.collectRollouts(ch)
}

// collectRevisions reports one environment's proxy counters, bounded to
// revision 0 and the newest maxRevisionsExported revisions, and those
// revisions' per-route counters.
func collectRevisions(ch chan<- prometheus.Metric, e proxyrouter.EnvStats) {
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
		lp := labelPairs(revisionLabels, []string{e.App, e.Env, strconv.Itoa(s.Revision), s.Version, s.Group})
		for _, cc := range routeClasses(proxy.RouteStats{Requests: s.Requests, Status2xx: s.Status2xx, Status3xx: s.Status3xx,
			Status4xx: s.Status4xx, Status5xx: s.Status5xx, ClientClosed: s.ClientClosed}) {
			ch <- valueMetric{requestsDesc, withLabel(lp, cc.label), prometheus.CounterValue, float64(cc.n)}
		}
		ch <- valueMetric{proxyErrorsDesc, lp, prometheus.CounterValue, float64(s.ProxyErrors)}
		ch <- valueMetric{inFlightDesc, lp, prometheus.GaugeValue, float64(s.InFlight)}
		ch <- latencyMetric{durationDesc, lp, &s.Latency, revisionBounds}
	}
	for _, r := range e.Rejections {
		ch <- prometheus.MustNewConstMetric(rejectedDesc, prometheus.CounterValue, float64(r.Count), e.App, e.Env, r.Reason.String())
	}
	collectRoutes(ch, e, exported)
	collectUsers(ch, e, exported)
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
