package server

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

var (
	routeLabels = []string{"app", "env", "revision", "version", "group", "route"}

	droppedSeriesDesc = prometheus.NewDesc("gantry_metrics_dropped_series_total",
		"Label values refused because a bound was reached, by source: route (route templates beyond the 100 a listener counts; their requests count as other) or instance (series of instances' own metrics, in scrapes refused for exceeding spec.metrics.scrape's limits).",
		[]string{"app", "env", "source"}, nil)
)

// routeBounds are the classic bucket bounds of
// gantry_route_request_duration_seconds, as the proxy's bucket indexes:
// 100µs·4^k for k = 3..7, 6.4ms..1.6384s, a subset of
// gantry_request_duration_seconds's bounds.
var routeBounds = []int{24, 32, 40, 48, 56}

// classLabels are the code_class label pairs, shared by every series.
var classLabels = func() (out [6]*dto.LabelPair) {
	for i, c := range []string{"1xx", "2xx", "3xx", "4xx", "5xx", "client_closed"} {
		out[i] = &dto.LabelPair{Name: new("code_class"), Value: &c}
	}
	return out
}()
