package server_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/rollout"
)

// canarySpec runs 3 instances with a canary that sends half the traffic to
// the new revision and then waits long enough for the analysis to decide.
// Readiness takes three failed probes, as Kubernetes' default does: on a
// loaded machine one probe can time out, and with two canary instances one
// instance unready is above MaxUnhealthyShare and rolls the canary back.
func canarySpec(disabled ...string) string {
	analysis := ""
	if len(disabled) > 0 {
		analysis = "  analysis: {disabled: [" + strings.Join(disabled, ", ") + "]}\n"
	}
	return fmt.Sprintf(`apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
  replicas: 3
  workload:
    command: %s
    args: [sample, --port, "{{.Port}}", --version, "{{.Version}}", --instance, "{{.Instance}}"]
  resources:
    limits: {memory: 96Mi, cpu: 300m}
  livenessProbe: {httpGet: {path: /health}, periodSeconds: 1}
  readinessProbe: {httpGet: {path: /ready}, periodSeconds: 1, failureThreshold: 3}
  progressDeadlineSeconds: 60
  terminationGracePeriodSeconds: 5
%s  strategy:
    type: Canary
    canary:
      steps:
        - setWeight: 50
        - pause: {duration: 10m}
environments:
  - name: prod
`, gantryBin, analysis)
}

// TestServer_CanaryTriggersRollBack deploys, for each built-in rollback
// trigger, a canary that trips it on real processes under real traffic,
// and checks the rollout is rolled back with that trigger as its reason
// and that the stable version never failed a request.
func TestServer_CanaryTriggersRollBack(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the trigger suite takes about two minutes")
	}
	for _, tc := range []struct {
		name, version string
		reasons       []rollout.Reason
		// disabled turns off checks the fault trips too (a process
		// growing its memory or burning CPU is also slow), so that the
		// case shows its own trigger.
		disabled []string
	}{
		{"errors", "v2+errors=0.3", []rollout.Reason{"ErrorRate", "ErrorTest"}, nil},
		{"latency", "v2+latency=60ms", []rollout.Reason{"LatencyRatio", "LatencyTest"}, nil},
		{"unhealthy instances", "v2+unready-after=3s", []rollout.Reason{"UnhealthyInstances"}, []string{"LatencyRatio", "LatencyTest"}},
		{"memory", "v2+mem-growth=64MiB", []rollout.Reason{"Memory"}, []string{"LatencyRatio", "LatencyTest"}},
		{"cpu", "v2+cpu-burn=0.9", []rollout.Reason{"CPU"}, []string{"LatencyRatio", "LatencyTest"}},
		{"dependency", "v2+db-down", []rollout.Reason{"Dependency"}, nil},
		{"crash loop", "v2+crash-at-start", []rollout.Reason{"CrashLoop"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := startServerWith(t, canarySpec(tc.disabled...))
			l, stop := e.load(t)
			r := e.deploy(t, tc.version)
			stop()
			if r.Phase != rollout.RolledBack || !slices.Contains(tc.reasons, r.Reason) {
				t.Fatalf("rollout = %s %s (%s), want RolledBack by one of %v", r.Phase, r.Reason, r.Message, tc.reasons)
			}
			t.Logf("rolled back after %s: %s: %s", r.FinishedAt.Sub(r.CreatedAt).Round(time.Millisecond), r.Reason, r.Message)
			for _, c := range l.ByVersion() {
				if c.Version == "v1" && c.Failed != 0 {
					t.Errorf("the stable version failed %d requests; last: %s", c.Failed, l.LastError())
				}
			}
			hist, err := e.c.History(context.Background(), "web", "prod", 1)
			if err != nil {
				t.Fatal(err)
			}
			if hist[0].Reason != r.Reason || hist[0].Message == "" {
				t.Errorf("history shows %q %q, want the reason and its numbers", hist[0].Reason, hist[0].Message)
			}
		})
	}
}

// TestServer_GoodCanaryIsPromoted checks a healthy canary goes through its
// steps on evidence and ends serving alone, with no failed request.
func TestServer_GoodCanaryIsPromoted(t *testing.T) {
	spec := fmt.Sprintf(`apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
  replicas: 3
  workload:
    command: %s
    args: [sample, --port, "{{.Port}}", --version, "{{.Version}}"]
  readinessProbe: {httpGet: {path: /ready}, periodSeconds: 1}
  analysis: {minRequests: 200}
  strategy:
    type: Canary
    canary:
      steps:
        - setWeight: 50
        - pause: {duration: 2s}
environments:
  - name: prod
`, gantryBin)
	e := startServerWith(t, spec)
	l, stop := e.load(t)
	r := e.deploy(t, "v2")
	stop()
	if r.Phase != rollout.Succeeded {
		t.Fatalf("rollout = %s %s: %s", r.Phase, r.Reason, r.Message)
	}
	if l.Failed() != 0 {
		t.Fatalf("%d requests failed; last: %s", l.Failed(), l.LastError())
	}
	evs, err := e.c.Events(context.Background(), "web", "prod", 0, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range evs {
		if ev.Reason == "StepCompleted" && containsAll(ev.Message, "ErrorEvidence", "LatencyEvidence") {
			found = true
		}
	}
	if !found {
		t.Errorf("no step was completed on evidence; events: %+v", evs)
	}
	checkRolloutMetrics(t, e)
}

// checkRolloutMetrics wants /metrics to show the promoted canary's
// analysis verdicts and the time of each of its steps (0: the start, then
// setWeight and pause), the last one ended by the success.
func checkRolloutMetrics(t *testing.T, e *env) {
	t.Helper()
	steps := map[string]uint64{}
	deadline := time.Now().Add(20 * time.Second)
	for steps["2 ended"] == 0 && time.Now().Before(deadline) { // the success event follows the phase
		time.Sleep(50 * time.Millisecond)
		for _, m := range scrape(t, e)["gantry_rollout_step_duration_seconds"].GetMetric() {
			steps[label(m, "step")+" "+label(m, "outcome")] = m.GetHistogram().GetSampleCount()
		}
	}
	for _, k := range []string{"0 next", "1 next", "2 ended"} {
		if steps[k] != 1 {
			t.Errorf("gantry_rollout_step_duration_seconds{step outcome=%q}: %d samples, want 1 (all: %v)", k, steps[k], steps)
		}
	}
	verdicts := map[string]float64{}
	for _, m := range scrape(t, e)["gantry_analysis_verdicts_total"].GetMetric() {
		verdicts[label(m, "verdict")] += m.GetCounter().GetValue()
	}
	if verdicts["Promote"] < 1 || verdicts["Rollback"] != 0 {
		t.Errorf("gantry_analysis_verdicts_total by verdict = %v, want Promote at least once and no Rollback", verdicts)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestServer_BlueGreenSwitchAndSwitchBackUnderLoad switches traffic to
// green, aborts during the scale-down delay (an instant switch back to
// blue, which still runs), then releases again and promotes fully, all
// under continuous load with zero failed requests.
func TestServer_BlueGreenSwitchAndSwitchBackUnderLoad(t *testing.T) {
	spec := fmt.Sprintf(`apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
  replicas: 3
  workload:
    command: %s
    args: [sample, --port, "{{.Port}}", --version, "{{.Version}}"]
  readinessProbe: {httpGet: {path: /ready}, periodSeconds: 1}
  strategy:
    type: BlueGreen
    blueGreen:
      scaleDownDelaySeconds: 600
      smokeTests:
        - {path: /health, expectBody: pass}
        - {command: [sh, -c, 'test -n "$GANTRY_PREVIEW_URL"']}
environments:
  - name: prod
`, gantryBin)
	e := startServerWith(t, spec)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l, stop := e.load(t)
	defer stop()

	ro, err := e.c.Deploy(ctx, "web", "prod", "v2")
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(ctx, t, e, func(st api.Status) bool {
		return st.Rollout.ID == ro.ID && st.Rollout.Step == 3 && trafficOf(st, 2) > 0
	})
	if preview := e.srv.PreviewAddr("web", "prod"); preview == "" {
		t.Errorf("blue-green environment has no preview listener")
	}
	if _, err := e.c.Command(ctx, "web", "prod", "abort", api.CommandBody{Reason: "test switch back"}); err != nil {
		t.Fatal(err)
	}
	final, err := e.c.WaitRollout(ctx, ro.ID, 100*time.Millisecond, nil)
	if err != nil || final.Phase != rollout.Aborted {
		t.Fatalf("after abort: %v %s %s", err, final.Phase, final.Message)
	}
	v1Before := served(l)["v1"]
	time.Sleep(time.Second)
	if served(l)["v1"] <= v1Before {
		t.Errorf("v1 serves nothing after the switch back")
	}

	ro, err = e.c.Deploy(ctx, "web", "prod", "v3")
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(ctx, t, e, func(st api.Status) bool {
		return st.Rollout.ID == ro.ID && st.Rollout.Step == 3 && trafficOf(st, 3) > 0
	})
	if _, err := e.c.Command(ctx, "web", "prod", "promote", api.CommandBody{Full: true}); err != nil {
		t.Fatal(err)
	}
	if final, err = e.c.WaitRollout(ctx, ro.ID, 100*time.Millisecond, nil); err != nil || final.Phase != rollout.Succeeded {
		t.Fatalf("v3: %v %s %s", err, final.Phase, final.Message)
	}
	stop()
	if l.Failed() != 0 {
		t.Fatalf("%d of %d requests failed across the switches; last: %s", l.Failed(), l.Total(), l.LastError())
	}
	got := served(l)
	for _, v := range []string{"v1", "v2", "v3"} {
		if got[v] == 0 {
			t.Errorf("%s served nothing: %v", v, got)
		}
	}
}

func trafficOf(st api.Status, rev int) uint64 {
	for _, rs := range st.Revisions {
		if rs.Number == rev {
			return rs.Traffic.Requests
		}
	}
	return 0
}

func waitStatus(ctx context.Context, t *testing.T, e *env, ok func(api.Status) bool) {
	t.Helper()
	for {
		st, err := e.c.Status(ctx, "web", "prod")
		if err != nil {
			t.Fatal(err)
		}
		if st.Rollout != nil && ok(st) {
			return
		}
		if st.Rollout != nil && st.Rollout.Phase.Final() {
			t.Fatalf("rollout ended %s (%s: %s) before the expected state", st.Rollout.Phase, st.Rollout.Reason, st.Rollout.Message)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting; last status %+v", st.Rollout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
