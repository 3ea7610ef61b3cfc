package appmetrics

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// exposition1000 is an instance's exposition of 1,000 series (the
// default limit): 10 counters × 35 label values, 10 gauges × 35 and 10
// histograms × 2 label values × (12 buckets + +Inf, _sum, _count).
func exposition1000() string {
	var b strings.Builder
	for m := range 10 {
		fmt.Fprintf(&b, "# HELP biz_%d_total A business counter.\n# TYPE biz_%d_total counter\n", m, m)
		for v := range 35 {
			fmt.Fprintf(&b, "biz_%d_total{kind=\"k%d\",version=\"v1\"} %d\n", m, v, v*1000)
		}
		fmt.Fprintf(&b, "# TYPE level_%d gauge\n", m)
		for v := range 35 {
			fmt.Fprintf(&b, "level_%d{kind=\"k%d\"} %d.5\n", m, v, v)
		}
		fmt.Fprintf(&b, "# TYPE lat_%d_seconds histogram\n", m)
		for v := range 2 {
			for i := range 12 {
				fmt.Fprintf(&b, "lat_%d_seconds_bucket{op=\"o%d\",le=\"%g\"} %d\n", m, v, 0.001*float64(int(1)<<i), i*10)
			}
			fmt.Fprintf(&b, "lat_%d_seconds_bucket{op=\"o%d\",le=\"+Inf\"} 200\nlat_%d_seconds_sum{op=\"o%d\"} 12.5\nlat_%d_seconds_count{op=\"o%d\"} 200\n", m, v, m, v, m, v)
		}
	}
	return b.String()
}

// BenchmarkScrape is one scrape of a 1,000-series instance over a real
// socket: fetch, parse, bound and relabel.
func BenchmarkScrape(b *testing.B) {
	body := exposition1000()
	t := target(serve(b, func() string { return body }), "web-1", Config{SeriesLimit: 1000})
	s := New(Options{})
	l := &loop{t: t}
	if err := s.scrape(context.Background(), l); err != nil || l.status.Series != 1000 {
		b.Fatalf("scrape: %v, %d series", err, l.status.Series)
	}
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		_ = s.scrape(context.Background(), l)
	}
}

// BenchmarkGather is a Gather of gantry's registry holding 30 instances
// of 1,000 series each (what /metrics and the alerting history read).
func BenchmarkGather(b *testing.B) {
	body := exposition1000()
	addr := serve(b, func() string { return body })
	s := New(Options{})
	for i := range 30 {
		l := &loop{t: target(addr, fmt.Sprintf("web-%d", i), Config{SeriesLimit: 1000})}
		if err := s.scrape(context.Background(), l); err != nil {
			b.Fatal(err)
		}
		s.loops[l.t] = l
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collector())
	b.ResetTimer()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
