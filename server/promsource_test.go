package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/internal/daemontest"
	"github.com/gantry-dev/gantry/metrics/promsource"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/server"
)

// countingSource counts the reads of a MetricSource that saw revision 2.
type countingSource struct {
	rollout.MetricSource
	sawCanary atomic.Int64
}

func (c *countingSource) RevisionMetrics(app, env string) map[int]rollout.RevisionMetrics {
	m := c.MetricSource.RevisionMetrics(app, env)
	if m[2].Requests > 0 {
		c.sawCanary.Add(1)
	}
	return m
}

// TestPrometheusSource_rollsBackABadCanary: the analysis reads only a real
// Prometheus, which scrapes the instances' own /metrics (the sample
// workload's client_golang counters per version and status) with app, env
// and revision as target labels; a canary answering 30% of requests with
// 500 is rolled back by the same analysis.
func TestPrometheusSource_rollsBackABadCanary(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs a canary on real processes and Prometheus")
	}
	base, targets := startInstancePrometheus(t)
	src, err := promsource.New(promsource.Options{URL: base, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	counting := &countingSource{MetricSource: src}
	e := startServerOpts(t, canarySpec(), func(o *server.Options) { o.MetricSource = counting })

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	go discoverInstances(ctx, e, targets)
	r, err := e.c.WaitRollout(ctx, deployUnderLoad(t, ctx, e, "v2+errors=0.3").ID, 100*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Phase != rollout.RolledBack || (r.Reason != rollout.ReasonErrorRate && r.Reason != rollout.ReasonErrorTest) {
		t.Fatalf("rollout ended %s %s (%s), want rolled back for errors", r.Phase, r.Reason, r.Message)
	}
	// This metric source counts no baseline group apart: the engine says
	// it compares with the primary instances instead, as data.
	evs, err := e.c.Events(ctx, "web", "prod", 0, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	fellBack := 0
	for _, ev := range evs {
		if ev.Reason == rollout.ReasonBaselinePrimary {
			fellBack++
			if ev.Details == nil || ev.Details.Baseline == nil || ev.Details.Baseline.Cause != rollout.FallbackMetrics {
				t.Errorf("event %s: details %+v, want baseline cause %s", ev.Reason, ev.Details, rollout.FallbackMetrics)
			}
		}
	}
	if fellBack != 1 {
		t.Errorf("%d BaselinePrimary events, want 1", fellBack)
	}
	if counting.sawCanary.Load() == 0 {
		t.Fatal("the analysis never read the canary's counts from Prometheus")
	}
	t.Logf("rolled back: %s: %s (%d reads from Prometheus saw the canary)", r.Reason, r.Message, counting.sawCanary.Load())
}

// startInstancePrometheus starts a real Prometheus (skipping the test
// without it) that scrapes the targets written to the file it returns
// (file-based discovery, refreshed every second), every second.
func startInstancePrometheus(t *testing.T) (base, targets string) {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus is not installed (Debian: apt-get install prometheus; .ci/run installs it)")
	}
	dir := t.TempDir()
	targets = filepath.Join(dir, "targets.json")
	if err := os.WriteFile(targets, []byte("[]"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
  - job_name: instances
    file_sd_configs: [{files: [%q], refresh_interval: 1s}]
`, targets)), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := daemontest.FreeAddr(t)
	base = "http://" + addr
	daemontest.Start(t, dir, bin, []string{"--config.file=" + cfg, "--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr, "--log.level=warn"}, base)
	return base, targets
}

// discoverInstances writes web/prod's instances as the Prometheus's
// targets, labelled as a team's Prometheus would label pods (app, env,
// revision), until ctx ends.
func discoverInstances(ctx context.Context, e *env, targets string) {
	for ctx.Err() == nil {
		type group struct {
			Targets []string          `json:"targets"`
			Labels  map[string]string `json:"labels"`
		}
		var groups []group
		for _, in := range e.srv.Instances("web", "prod") {
			groups = append(groups, group{Targets: []string{in.Addr}, Labels: map[string]string{
				"app": "web", "env": "prod", "revision": fmt.Sprint(in.Revision), "instance_id": in.ID}})
		}
		b, _ := json.Marshal(groups)
		tmp := targets + ".tmp"
		if os.WriteFile(tmp, b, 0o600) == nil {
			_ = os.Rename(tmp, targets)
		}
		select {
		case <-ctx.Done():
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// TestPrometheusSource_userCheckRollsBackACanary: a user-defined PromQL
// check runs on a real Prometheus (--analysis-prometheus), which alone
// sees the canary's metrics (the instances' own http_requests_total,
// scraped with app, env and revision target labels). The analysis' own
// error checks are off: the check's failures abort the canary answering
// 30% of requests with 500.
func TestPrometheusSource_userCheckRollsBackACanary(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs a canary on real processes and Prometheus")
	}
	base, targets := startInstancePrometheus(t)
	src, err := promsource.New(promsource.Options{URL: base, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	const check = `checks: [{name: instance-errors, intervalSeconds: 1, failureLimit: 2, successCondition: "result < 0.05",
    query: 'sum(rate(http_requests_total{app="{{.App}}",env="{{.Env}}",revision="{{.Revision}}",status=~"5.."}[10s])) / sum(rate(http_requests_total{app="{{.App}}",env="{{.Env}}",revision="{{.Revision}}"}[10s]))'}], `
	spec := strings.Replace(canarySpec("ErrorRate", "ErrorTest", "ErrorEvidence"), "analysis: {", "analysis: {"+check, 1)
	e := startServerOpts(t, spec, func(o *server.Options) { o.MetricSource = src })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	go discoverInstances(ctx, e, targets)
	r := deployUnderLoad(t, ctx, e, "v2+errors=0.3")
	if _, why := waitAbortedBy(t, ctx, e, r.ID, "check instance-errors"); !strings.Contains(why, `check instance-errors failed 3 time(s), over its failure limit of 2: "result < 0.05" was false for result 0.`) {
		t.Fatalf("the Aborted event by check instance-errors does not give the values: %q", why)
	}
}
