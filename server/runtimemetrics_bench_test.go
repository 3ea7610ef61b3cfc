package server

import (
	"fmt"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gantry-dev/gantry/proxy"
	"github.com/gantry-dev/gantry/router/proxyrouter"
)

// fixedStats feeds collectRevisions fixed environments' counters.
type fixedStats []proxyrouter.EnvStats

func (f fixedStats) Describe(ch chan<- *prometheus.Desc) { ch <- requestsDesc }
func (f fixedStats) Collect(ch chan<- prometheus.Metric) {
	for _, e := range f {
		collectRevisions(ch, e)
	}
}

// BenchmarkScrape_100apps3revisions20routes times one GET /metrics of 100
// apps with 3 revisions each and 20 route templates (21 labels with other),
// every histogram bucket filled; it reports the body's size.
func BenchmarkScrape_100apps3revisions20routes(b *testing.B) {
	var envs fixedStats
	for a := 0; a < 100; a++ {
		e := proxyrouter.EnvStats{App: fmt.Sprintf("app%03d", a), Env: "prod"}
		for r := 1; r <= 3; r++ {
			s := proxy.RevisionStats{Revision: r, Version: fmt.Sprintf("v%d", r), Requests: 1000, Status2xx: 990, Status5xx: 10}
			for i := range s.Latency.Counts {
				s.Latency.Counts[i] = uint64(i + 1)
			}
			e.Revisions = append(e.Revisions, s)
			for rt := 0; rt <= 20; rt++ {
				route := fmt.Sprintf("/api/resource%02d/{id}", rt)
				if rt == 20 {
					route = "other"
				}
				e.Routes = append(e.Routes, proxy.RouteStats{Revision: r, Version: s.Version, Route: route,
					Requests: 50, Status2xx: 49, Status5xx: 1, Latency: s.Latency})
			}
		}
		envs = append(envs, e)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(envs)
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	b.ReportAllocs()
	var size int64
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
		if w.Code != 200 {
			b.Fatalf("GET /metrics: %d", w.Code)
		}
		size, _ = io.Copy(io.Discard, w.Body)
	}
	b.ReportMetric(float64(size), "bytes/scrape")
}
