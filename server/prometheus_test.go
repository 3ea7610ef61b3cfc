package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/internal/daemontest"
)

// startPrometheus runs the real Prometheus (Debian's package) scraping the
// server's /metrics every second, until the test ends. It returns the base
// URL of Prometheus's HTTP API. The test skips when the binary is absent.
// Prometheus evaluates the rule files, if any, every second.
func startPrometheus(t *testing.T, e *env, ruleFiles ...string) string {
	t.Helper()
	return startPrometheusWith(t, e, nil, ruleFiles...)
}

// startPrometheusWith is startPrometheus with more command-line flags.
func startPrometheusWith(t *testing.T, e *env, flags []string, ruleFiles ...string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus is not installed (Debian: apt-get install prometheus; .ci/run installs it): skipping the scrape by a real Prometheus")
	}
	dir := t.TempDir()
	target := strings.TrimPrefix(e.srv.APIURL(), "http://")
	rules, _ := json.Marshal(append([]string{}, ruleFiles...)) // a YAML flow sequence
	cfg := fmt.Sprintf(`global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
rule_files: %s
scrape_configs:
  - job_name: gantry
    metrics_path: /metrics
    authorization: {credentials: %q}
    static_configs: [{targets: [%q]}]
`, rules, testToken, target)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := daemontest.FreeAddr(t)
	base := "http://" + addr
	daemontest.Start(t, dir, bin, append([]string{"--config.file=" + cfgPath, "--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr, "--log.level=warn"}, flags...), base)
	return base
}

// awaitScrape waits until Prometheus has scraped gantry's /metrics.
func awaitScrape(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for promQuery(t, base, `up{job="gantry"}`, "job")["gantry"] != 1 {
		if time.Now().After(deadline) {
			t.Fatal("prometheus did not scrape gantry's /metrics within 30s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// promQuery evaluates an instant PromQL query and returns its vector as
// label-set string (the given label's value) to value.
func promQuery(t *testing.T, base, query, by string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("query %s: %v", query, err)
	}
	if r.Status != "success" {
		t.Fatalf("query %s: %s", query, r.Error)
	}
	out := map[string]float64{}
	for _, s := range r.Data.Result {
		v, err := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
		if err != nil {
			t.Fatalf("query %s: value %v: %v", query, s.Value[1], err)
		}
		out[s.Metric[by]] = v
	}
	return out
}

// loadAndSettle sends the sample load for 3 seconds and returns the status
// API's per-revision traffic once it has counted every request sent (a
// response reaches the client just before the proxy records its request).
func loadAndSettle(t *testing.T, e *env) map[string]api.RevisionTraffic {
	t.Helper()
	l, stop := e.load(t)
	time.Sleep(3 * time.Second)
	stop()
	if l.Total() == 0 {
		t.Fatal("the load sent no request")
	}
	want := revisionTraffic(t, e)
	for settle := time.Now().Add(10 * time.Second); want["1"].Requests < l.Total() && time.Now().Before(settle); {
		time.Sleep(50 * time.Millisecond)
		want = revisionTraffic(t, e)
	}
	return want
}

func TestMetrics_realPrometheusAgreesWithStatus(t *testing.T) {
	e := startServer(t, 60)
	base := startPrometheus(t, e)
	awaitScrape(t, base) // load only once Prometheus scrapes gantry, so the rate has samples
	want := loadAndSettle(t, e)
	if want["1"].Requests == 0 {
		t.Fatalf("status API: revision 1 served nothing: %+v", want)
	}
	// Wait for a scrape taken after the load stopped: the counters no
	// longer move, so Prometheus's last sample must equal the status API.
	var requests, errors map[string]float64
	deadline := time.Now().Add(30 * time.Second)
	for {
		requests = promQuery(t, base, `sum by (version) (gantry_requests_total{app="web",env="prod"})`, "version")
		errors = promQuery(t, base, `sum by (version) (gantry_requests_total{app="web",env="prod",code_class="5xx"})`, "version")
		if uint64(requests["v1"]) == want["1"].Requests || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if uint64(requests["v1"]) != want["1"].Requests || uint64(errors["v1"]) != want["1"].Errors {
		t.Errorf("PromQL: v1 %v requests, %v 5xx; status API %d, %d", requests["v1"], errors["v1"], want["1"].Requests, want["1"].Errors)
	}
	// The rate over the load and the quantiles are computable per version.
	rate := promQuery(t, base, `sum by (version) (rate(gantry_requests_total{app="web"}[1m]))`, "version")
	if rate["v1"] <= 0 {
		t.Errorf("PromQL rate of v1: %v, want > 0", rate)
	}
	for _, q := range []string{"0.50", "0.95", "0.99"} {
		got := promQuery(t, base, `histogram_quantile(`+q+`, sum by (le, version) (rate(gantry_request_duration_seconds_bucket{app="web"}[1m])))`, "version")
		if v := got["v1"]; !(v > 0 && v < 60) {
			t.Errorf("PromQL p%s of v1: %v, want a latency in (0, 60s)", strings.TrimPrefix(q, "0."), got)
		}
	}
	count := promQuery(t, base, `sum by (version) (gantry_request_duration_seconds_count{app="web"})`, "version")
	if uint64(count["v1"]) != want["1"].Requests {
		t.Errorf("PromQL histogram count of v1: %v, want %d", count["v1"], want["1"].Requests)
	}
	ready := promQuery(t, base, `sum by (version) (gantry_instance_ready{app="web"})`, "version")
	if ready["v1"] != 3 {
		t.Errorf("PromQL ready instances of v1: %v, want 3", ready)
	}
}

// A Prometheus that scrapes native histograms (it then negotiates
// protobuf) reads gantry's latency histograms as native ones, per
// revision and per route: their counts agree with the status API and
// their quantiles are computable.
func TestMetrics_realPrometheusNativeHistograms(t *testing.T) {
	e := startServerWith(t, strings.Replace(appSpec("127.0.0.1:0", 60), "  terminationGracePeriodSeconds: 5\n",
		"  terminationGracePeriodSeconds: 5\n  metrics: {routes: [\"/\", \"/users/{id}\"]}\n", 1))
	base := startPrometheusWith(t, e, []string{"--enable-feature=native-histograms"})
	awaitScrape(t, base)
	want := loadAndSettle(t, e) // GET /: route "/"
	var count, routeCount map[string]float64
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		count = promQuery(t, base, `sum by (version) (histogram_count(gantry_request_duration_seconds{app="web",env="prod"}))`, "version")
		routeCount = promQuery(t, base, `sum by (route) (histogram_count(gantry_route_request_duration_seconds{app="web",env="prod"}))`, "route")
		if uint64(count["v1"]) == want["1"].Requests && uint64(routeCount["/"]) == want["1"].Requests || time.Now().After(deadline) {
			break
		}
	}
	if uint64(count["v1"]) != want["1"].Requests || uint64(routeCount["/"]) != want["1"].Requests {
		t.Fatalf("native histogram counts: v1 %v, route / %v; status API %d requests", count, routeCount, want["1"].Requests)
	}
	for _, q := range []string{"0.5", "0.95", "0.99"} {
		for metric, by := range map[string]string{"gantry_request_duration_seconds": "version", "gantry_route_request_duration_seconds": "route"} {
			got := promQuery(t, base, `histogram_quantile(`+q+`, sum by (`+by+`) (rate(`+metric+`{app="web"}[1m])))`, by)
			if v := got[map[string]string{"version": "v1", "route": "/"}[by]]; !(v > 0 && v < 60) {
				t.Errorf("PromQL quantile %s of the native %s: %v, want a latency in (0, 60s)", q, metric, got)
			}
		}
	}
}
