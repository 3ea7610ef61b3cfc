package server

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-dev/gantry/alerting"
	"github.com/gantry-dev/gantry/proxy"
	"github.com/gantry-dev/gantry/router/proxyrouter"
)

// scrapeFixture serves scrapeEnvs as /metrics serves the proxy's counters.
func scrapeFixture() *metricsSource {
	envs := scrapeEnvs()
	src := &metricsSource{reg: prometheus.NewRegistry(), read: func() []proxyrouter.EnvStats { return envs }}
	src.reg.MustRegister(extrasCollector{src})
	return src
}

// scrapeEnvs are 100 apps with 3 revisions each and 20 route templates
// (21 labels with other), every bucket of every histogram filled, two
// status classes per route.
func scrapeEnvs() []proxyrouter.EnvStats {
	var envs []proxyrouter.EnvStats
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
	return envs
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScrape_100apps3revisions20routes times one GET /metrics of
// scrapeFixture over a real socket, as Prometheus asks for it: the text
// format (Prometheus's default scrape protocols), the text format gzipped
// (Prometheus sends Accept-Encoding: gzip), and protobuf (what Prometheus
// negotiates when it scrapes native histograms). It reports the bytes on
// the wire and the process's CPU time per scrape (server and client: the
// figure the machine's load does not inflate). alerting is the embedded
// alerting history's sample of the same registry (alerting.Gather and
// History.Add), once per --alert-interval: its CPU time and the memory the
// history keeps per sample (30 minutes at the default 15s interval are 120
// samples).
func BenchmarkScrape_100apps3revisions20routes(b *testing.B) {
	reg := scrapeFixture()
	srv := httptest.NewServer(reg)
	defer srv.Close()
	for _, c := range []struct{ name, accept, encoding string }{
		{"text", "text/plain;version=0.0.4;q=0.5,*/*;q=0.1", "identity"},
		{"text-gzip", "text/plain;version=0.0.4;q=0.5,*/*;q=0.1", "gzip"},
		{"protobuf-gzip", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,*/*;q=0.1", "gzip"},
	} {
		b.Run(c.name, func(b *testing.B) {
			req, _ := http.NewRequest("GET", srv.URL, nil)
			req.Header.Set("Accept", c.accept)
			req.Header.Set("Accept-Encoding", c.encoding) // the transport then leaves the body as sent
			client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
			var size int64
			cpu := cpuTime()
			for b.Loop() {
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				size, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("GET /metrics: %d", resp.StatusCode)
				}
			}
			b.ReportMetric(float64(size), "bytes/scrape")
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e6, "cpu-ms/scrape")
		})
	}
	// With the data plane process (gantry proxy), each scrape first reads
	// every counter over its control socket: dataplane's
	// BenchmarkCounters_100apps3revisions20routes times that read.
	b.Run("alerting", func(b *testing.B) {
		h := alerting.NewHistory(0, 0)
		var n int
		var heap [2]runtime.MemStats
		ts := time.Now()
		add := func() {
			s, err := alerting.Gather(reg)
			if err != nil {
				b.Fatal(err)
			}
			ts = ts.Add(15 * time.Second)
			h.Add(ts, s)
			n = len(s)
		}
		add() // the series themselves
		runtime.GC()
		runtime.ReadMemStats(&heap[0])
		cpu := cpuTime()
		for b.Loop() {
			add()
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e6, "cpu-ms/sample")
		runtime.GC()
		runtime.ReadMemStats(&heap[1])
		b.ReportMetric(float64(n), "series")
		b.ReportMetric(float64(int64(heap[1].HeapAlloc)-int64(heap[0].HeapAlloc))/float64(b.N)/1e6, "kept-MB/sample")
		runtime.KeepAlive(h)
	})
}
