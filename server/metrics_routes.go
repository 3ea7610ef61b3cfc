package server

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gantry-dev/gantry/proxy"
	"github.com/gantry-dev/gantry/router/proxyrouter"
)

var (
	routeLabels = []string{"app", "env", "revision", "version", "group", "route"}

	routeRequestsDesc = prometheus.NewDesc("gantry_route_requests_total",
		"Requests the proxy finished, by revision, route template (spec.metrics.routes; other for paths no template matches) and status class (a class appears with its first request).",
		append(routeLabels[:6:6], "code_class"), nil)
	routeDurationDesc = prometheus.NewDesc("gantry_route_request_duration_seconds",
		"Request durations by revision and route template: classic buckets 6.4ms, 25.6ms, 102.4ms, 409.6ms and 1.6384s (few, to keep per-route series cheap), and a native histogram (schema 1) for scrapers that negotiate protobuf.",
		routeLabels, nil)
	droppedSeriesDesc = prometheus.NewDesc("gantry_metrics_dropped_series_total",
		"Label values refused because a bound was reached, by source: route (route templates beyond the 100 a listener counts; their requests count as other) or instance (series of instances' own metrics, in scrapes refused for exceeding spec.metrics.scrape's limits).",
		[]string{"app", "env", "source"}, nil)
)

// routeBounds are the classic bucket bounds of
// gantry_route_request_duration_seconds, as the proxy's bucket indexes:
// 100µs·4^k for k = 3..7, 6.4ms..1.6384s, a subset of
// gantry_request_duration_seconds's bounds.
var routeBounds = []int{24, 32, 40, 48, 56}

// routeDescs are the descriptors collectRoutes reports.
var routeDescs = []*prometheus.Desc{routeRequestsDesc, routeDurationDesc, droppedSeriesDesc}

// collectRoutes reports one environment's per-route counters for the
// revisions collectRevisions exported.
func collectRoutes(ch chan<- prometheus.Metric, e proxyrouter.EnvStats, exported map[int]bool) {
	for _, s := range e.Routes {
		if !exported[s.Revision] {
			continue
		}
		lp := labelPairs(routeLabels, []string{e.App, e.Env, strconv.Itoa(s.Revision), s.Version, s.Group, s.Route})
		for _, cc := range routeClasses(s) {
			if cc.n == 0 {
				continue // as a CounterVec: a class's series appears with its first request
			}
			ch <- valueMetric{routeRequestsDesc, withLabel(lp, cc.label), prometheus.CounterValue, float64(cc.n)}
		}
		ch <- latencyMetric{routeDurationDesc, lp, &s.Latency, routeBounds}
	}
	if len(e.Routes) > 0 || e.DroppedRouteLabels > 0 {
		ch <- prometheus.MustNewConstMetric(droppedSeriesDesc, prometheus.CounterValue, float64(e.DroppedRouteLabels), e.App, e.Env, "route")
	}
}

// classCount is one status class's count.
type classCount struct {
	label *dto.LabelPair // code_class=the class
	n     uint64
}

// classLabels are the code_class label pairs, shared by every series.
var classLabels = func() (out [6]*dto.LabelPair) {
	for i, c := range []string{"1xx", "2xx", "3xx", "4xx", "5xx", "client_closed"} {
		out[i] = &dto.LabelPair{Name: new("code_class"), Value: &c}
	}
	return out
}()

// routeClasses splits a route's requests by status class.
func routeClasses(s proxy.RouteStats) [6]classCount {
	informational := s.Requests - s.Status2xx - s.Status3xx - s.Status4xx - s.Status5xx - s.ClientClosed
	return [6]classCount{
		{classLabels[0], informational}, {classLabels[1], s.Status2xx}, {classLabels[2], s.Status3xx},
		{classLabels[3], s.Status4xx}, {classLabels[4], s.Status5xx}, {classLabels[5], s.ClientClosed},
	}
}
