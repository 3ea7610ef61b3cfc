package appmetrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// exposition is an instance's /metrics with a label gantry adds itself
// (version), a reserved name and a histogram.
const exposition = `# HELP validations_total Validations by result.
# TYPE validations_total counter
validations_total{result="passed",version="v1"} 42
validations_total{result="failed",version="v1"} 3
# TYPE go_goroutines gauge
go_goroutines 7
# TYPE lat_seconds histogram
lat_seconds_bucket{le="0.1"} 1
lat_seconds_bucket{le="+Inf"} 2
lat_seconds_sum 0.3
lat_seconds_count 2
`

func serve(t testing.TB, body func() string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, body())
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func target(addr, instance string, c Config) Target {
	c.Interval = 50 * time.Millisecond
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second // generous: -race on a loaded machine
	}
	return Target{App: "web", Env: "prod", Revision: 2, Version: "v2", Instance: instance, Addr: addr, Config: c}
}

// waitScraped waits until each of the n targets was scraped at least once.
func waitScraped(t *testing.T, s *Scraper, n int) []TargetState {
	return waitScrapes(t, s, n, 1)
}

// waitScrapes waits until each of the n targets was scraped at least k times.
func waitScrapes(t *testing.T, s *Scraper, n, k int) []TargetState {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ts := s.Targets()
		done := len(ts) == n
		for _, x := range ts {
			done = done && x.Status.Scrapes >= k
		}
		if done {
			return ts
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("targets not all scraped: %+v", s.Targets())
	return nil
}

func gather(t *testing.T, s *Scraper) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, lp := range m.GetLabel() {
		out[lp.GetName()] = lp.GetValue()
	}
	return out
}

func TestScraper_reexposesWithTargetLabels(t *testing.T) {
	s := New(Options{Reserved: func(name string) bool { return strings.HasPrefix(name, "go_") }})
	defer s.Close()
	s.Sync(context.Background(), []Target{target(serve(t, func() string { return exposition }), "web-prod-2-a", Config{})})
	ts := waitScraped(t, s, 1)
	if ts[0].Status.Err != nil || ts[0].Status.Series != 7 {
		t.Fatalf("status %+v, want kept with 7 series (2 counters, a gauge, 2 buckets, _sum, _count)", ts[0].Status)
	}
	mfs := gather(t, s)
	v := mfs["validations_total"]
	if v == nil || len(v.GetMetric()) != 2 || v.GetHelp() != "Validations by result." {
		t.Fatalf("validations_total: %v", v)
	}
	got := labelsOf(v.GetMetric()[0])
	want := map[string]string{"app": "web", "env": "prod", "revision": "2", "version": "v2", "exported_version": "v1", "instance": "web-prod-2-a"}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("validations_total label %s = %q, want %q (labels %v)", k, got[k], w, got)
		}
	}
	if mfs["go_goroutines"] != nil || mfs["exported_go_goroutines"] == nil {
		t.Errorf("a reserved name is not re-exposed as exported_go_goroutines: %v", mfs["go_goroutines"])
	}
	if h := mfs["lat_seconds"]; h == nil || h.GetMetric()[0].GetHistogram().GetSampleCount() != 2 {
		t.Errorf("lat_seconds histogram: %v", h)
	}
	if up := mfs["gantry_instance_scrape_up"]; up == nil || up.GetMetric()[0].GetGauge().GetValue() != 1 {
		t.Errorf("gantry_instance_scrape_up: %v", up)
	}
}

func TestScraper_badInstances(t *testing.T) {
	many := func(n int, label string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "logins_total{%s=\"%d\"} 1\n", label, i)
		}
		return b.String()
	}
	huge := strings.Repeat("# padding comment line, garbage for the size limit only\n", MaxBodyBytes/50)
	for _, tc := range []struct {
		name        string
		body        string
		config      Config
		want        RefusalReason // "" : an error that is no refusal
		wantDropped uint64
	}{
		{"too many series", many(30, "shard"), Config{SeriesLimit: 20, LabelValueLimit: 20}, TooManySeries, 30},
		{"unbounded label", many(30, "user_id"), Config{SeriesLimit: 100, LabelValueLimit: 10}, TooManyLabelValues, 30},
		{"body too large", huge, Config{}, BodyTooLarge, 0},
		{"garbage", "this is { not an exposition\n", Config{}, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var failures []error
			s := New(Options{OnFailure: func(_ Target, err error) {
				mu.Lock()
				failures = append(failures, err)
				mu.Unlock()
			}})
			defer s.Close()
			good := target(serve(t, func() string { return exposition }), "good", Config{})
			bad := target(serve(t, func() string { return tc.body }), "bad", tc.config)
			s.Sync(context.Background(), []Target{good, bad})
			var st Status
			for _, x := range waitScrapes(t, s, 2, 3) { // several scrapes: OnFailure once, the drops add up
				if x.Target.Instance == "bad" {
					st = x.Status
				}
			}
			var r *Refusal
			switch isRefusal := errors.As(st.Err, &r); {
			case st.Err == nil:
				t.Fatal("the bad instance's exposition was kept")
			case tc.want == "" && isRefusal, tc.want != "" && (!isRefusal || r.Reason != tc.want):
				t.Fatalf("error %v, want a refusal %q", st.Err, tc.want)
			}
			if tc.want == TooManyLabelValues && (r.Label != "user_id" || r.Metric != "logins_total" || r.Count != 30 || r.Limit != 10) {
				t.Errorf("refusal %+v does not name logins_total's user_id with 30 values over 10", r)
			}
			dropped := s.Dropped()[EnvKey{"web", "prod"}]
			if tc.wantDropped > 0 && (dropped < 2*tc.wantDropped || dropped%tc.wantDropped != 0) {
				t.Errorf("dropped %d series, want a multiple of %d over several scrapes", dropped, tc.wantDropped)
			}
			mu.Lock()
			if len(failures) != 1 {
				t.Errorf("OnFailure called %d times, want once: %v", len(failures), failures)
			}
			mu.Unlock()
			mfs := gather(t, s)
			if v := mfs["validations_total"]; v == nil || len(v.GetMetric()) != 2 {
				t.Errorf("the good instance's series are missing beside a bad one: %v", v)
			}
			if mfs["logins_total"] != nil {
				t.Error("the refused series are exposed")
			}
			for _, m := range mfs["gantry_instance_scrape_up"].GetMetric() {
				if want := map[string]float64{"good": 1, "bad": 0}[labelsOf(m)["instance"]]; m.GetGauge().GetValue() != want {
					t.Errorf("scrape_up %v = %v, want %v", labelsOf(m), m.GetGauge().GetValue(), want)
				}
			}
		})
	}
}

// TestScraper_downInstance: an instance that refuses connections is
// reported, and Sync dropping it removes its series.
func TestScraper_downInstance(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	addr := serve(t, func() string { return exposition })
	down := target("127.0.0.1:1", "down", Config{})
	s.Sync(context.Background(), []Target{target(addr, "up", Config{}), down})
	for _, x := range waitScraped(t, s, 2) {
		if (x.Target.Instance == "down") != (x.Status.Err != nil) {
			t.Errorf("%s: error %v", x.Target.Instance, x.Status.Err)
		}
	}
	s.Sync(context.Background(), []Target{down})
	if v := gather(t, s)["validations_total"]; v != nil {
		t.Errorf("a dropped target's series are still exposed: %v", v)
	}
}

func TestRelabel_conflicts(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	body := "x_total{app=\"mine\",exported_app=\"taken\",instance=\"i\"} 1\n"
	s.Sync(context.Background(), []Target{target(serve(t, func() string { return body }), "web-1", Config{})})
	waitScraped(t, s, 1)
	got := labelsOf(gather(t, s)["x_total"].GetMetric()[0])
	want := map[string]string{"app": "web", "exported_app": "taken", "exported_exported_app": "mine", "exported_instance": "i", "instance": "web-1"}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("label %s = %q, want %q (labels %v)", k, got[k], w, got)
		}
	}
}
