package sample

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the sample's own Prometheus metrics, served on /metrics, as
// a workload instrumented with client_golang would export them: requests
// by version and status code, their latency, and a business counter:
// validations by result.
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	validations *prometheus.CounterVec
}

func newMetrics(version string) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	constant := prometheus.Labels{"version": version}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total",
		Help: "Requests served (not /health, /ready, /metrics), by status code.", ConstLabels: constant}, []string{"status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "http_request_duration_seconds",
		Help: "Time to serve a request.", ConstLabels: constant,
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, nil)
	m.validations = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "validations_total",
		Help: "Validations of plain requests, by result: passed or failed (the invalid knob).", ConstLabels: constant}, []string{"result"})
	m.validations.WithLabelValues("passed")
	m.validations.WithLabelValues("failed")
	m.reg.MustRegister(m.requests, m.duration, m.validations)
	return m
}

func (m *metrics) handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

// instrument counts and times h's requests.
func (m *metrics) instrument(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h(sw, r)
		m.requests.WithLabelValues(strconv.Itoa(sw.status)).Inc()
		m.duration.WithLabelValues().Observe(time.Since(start).Seconds())
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
