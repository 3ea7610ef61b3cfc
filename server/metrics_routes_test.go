package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

func TestMetrics_routeLabels(t *testing.T) {
	specText := strings.Replace(appSpec("127.0.0.1:0", 60), "  terminationGracePeriodSeconds: 5\n",
		"  terminationGracePeriodSeconds: 5\n  metrics: {routes: [\"/users/{id}\", \"/health\"]}\n", 1)
	e := startServerWith(t, specText)
	base := "http://" + e.srv.ProxyAddr("web", "prod")
	c := &http.Client{Timeout: 10 * time.Second}
	sent := map[string]int{"/users/{id}": 0, "/health": 0, "other": 0}
	for i, path := range []string{"/users/1", "/users/2?full=1", "/health", "/users/3", "/a/b/c", "/users/1/x", "/health"} {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		resp.Body.Close()
	}
	sent["/users/{id}"], sent["/health"], sent["other"] = 3, 2, 2

	var got map[string]float64
	var total float64
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, total = map[string]float64{}, 0
		mfs := scrape(t, e)
		for _, m := range mfs["gantry_route_requests_total"].GetMetric() {
			if label(m, "app") != "web" || label(m, "revision") != "1" || label(m, "version") != "v1" {
				t.Fatalf("gantry_route_requests_total: labels %v, want app web, revision 1, version v1", m.GetLabel())
			}
			got[label(m, "route")] += m.GetCounter().GetValue()
		}
		for _, m := range mfs["gantry_requests_total"].GetMetric() {
			if label(m, "revision") == "1" {
				total += m.GetCounter().GetValue()
			}
		}
		if got["/users/{id}"] == 3 && got["/health"] >= 2 && got["other"] == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Readiness probes go to the instances directly, not through the proxy:
	// every request counted is one of ours.
	for route, n := range sent {
		if got[route] != float64(n) {
			t.Errorf("route %q: %v requests counted, want %d (all: %v)", route, got[route], n, got)
		}
	}
	if len(got) != len(sent) {
		t.Errorf("route labels %v, want only %v", got, sent)
	}
	if total != 7 {
		t.Errorf("gantry_requests_total of revision 1 = %v, want 7 (the route counters come in addition)", total)
	}
	mfs := scrape(t, e)
	if h := mfs["gantry_route_request_duration_seconds"]; h == nil || len(h.GetMetric()) != 3 {
		t.Errorf("gantry_route_request_duration_seconds: %d series, want 3 (one per route label)", len(h.GetMetric()))
	}
	if d := mfs["gantry_metrics_dropped_series_total"]; d == nil || d.GetMetric()[0].GetCounter().GetValue() != 0 {
		t.Errorf("gantry_metrics_dropped_series_total: %v, want 0 for app web", d)
	}
	checkInstanceFilesAndHost(t, e)
}

// checkInstanceFilesAndHost wants every local instance's open files and
// disk I/O (once the backend has sampled them) and the loopback device's
// traffic in /metrics.
func checkInstanceFilesAndHost(t *testing.T, e *env) {
	t.Helper()
	var mfs map[string]*dto.MetricFamily
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if mfs = scrape(t, e); len(mfs["gantry_instance_open_files"].GetMetric()) == 3 {
			break
		}
	}
	for _, name := range []string{"gantry_instance_open_files", "gantry_instance_disk_read_bytes_total", "gantry_instance_disk_written_bytes_total"} {
		if n := len(mfs[name].GetMetric()); n != 3 {
			t.Errorf("%s: %d series, want one per instance (3)", name, n)
		}
	}
	for _, m := range mfs["gantry_instance_open_files"].GetMetric() {
		// A serving instance holds at least its listener and its standard streams.
		if v := m.GetGauge().GetValue(); v < 4 {
			t.Errorf("gantry_instance_open_files{instance=%q} = %v, want at least 4", label(m, "instance"), v)
		}
	}
	lo := false
	for _, m := range mfs["gantry_host_network_receive_bytes_total"].GetMetric() {
		lo = lo || label(m, "device") == "lo" && m.GetCounter().GetValue() > 0
	}
	if !lo {
		t.Errorf("gantry_host_network_receive_bytes_total has no traffic on lo: %v", mfs["gantry_host_network_receive_bytes_total"])
	}
}
