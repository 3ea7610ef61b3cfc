package server_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/server"
)

// planRules is the deployment plan's alert configuration, verbatim.
const planRules = "../examples/alerts/plan.rules.yml"

// TestAlerts_planRuleFiresAbortsAndResolves runs the plan's rule file,
// verbatim, inside a real server: a canary whose processes answer 30% of
// requests with 500 makes HighErrorRate pending, then firing; the spec
// lists the alert in abortOnAlerts, so the alert (not the analysis,
// whose error checks are off) aborts the rollout; once the traffic is back
// on v1 the alert resolves. The rules run on a clock that moves 30 seconds
// per evaluation (every 200ms), so their 5m range and `for` take seconds.
func TestAlerts_planRuleFiresAbortsAndResolves(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs a canary on real processes")
	}
	var mu sync.Mutex
	virtual := time.Now()
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		virtual = virtual.Add(30 * time.Second)
		return virtual
	}
	spec := strings.Replace(canarySpec("ErrorRate", "ErrorTest", "ErrorEvidence"),
		"analysis: {", "analysis: {abortOnAlerts: [HighErrorRate], ", 1)
	e := startServerOpts(t, spec, func(o *server.Options) {
		o.AlertRules = []string{planRules}
		o.AlertInterval = 200 * time.Millisecond
		o.AlertClock = clock
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_, stop := e.load(t)
	defer stop()

	r, err := e.c.Deploy(ctx, "web", "prod", "v2+errors=0.3")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	fired := waitAlert(t, ctx, e, func(a api.Alert) bool {
		seen[a.State] = true
		return a.Name == "HighErrorRate" && a.State == "firing" && a.Labels["version"] == "v2+errors=0.3"
	})
	if !seen["pending"] {
		t.Errorf("HighErrorRate fired without being pending first (for: 5m)")
	}
	if fired.Labels["status"] != "5xx" || fired.Value <= 0.05 || fired.Annotations["summary"] != "High error rate detected" || fired.Rule != planRules+":4" {
		t.Errorf("firing alert %+v", fired)
	}
	if fired.FiredAt.Sub(fired.ActiveAt) < 5*time.Minute {
		t.Errorf("fired %s after it became active, before its for: 5m", fired.FiredAt.Sub(fired.ActiveAt))
	}
	r, err = e.c.WaitRollout(ctx, r.ID, 100*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Phase != rollout.Aborted && r.Phase != rollout.RolledBack {
		t.Fatalf("rollout ended %s %s (%s), want aborted by the alert", r.Phase, r.Reason, r.Message)
	}
	evs, err := e.c.Events(ctx, "web", "prod", 0, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	aborted := false
	for _, ev := range evs {
		if ev.Reason == rollout.ReasonAborted && ev.Actor == "alert HighErrorRate" && strings.Contains(ev.Message+detailsWhy(ev), "HighErrorRate") {
			aborted = true
		}
	}
	if !aborted {
		t.Fatalf("no Aborted event by alert HighErrorRate among %d events of rollout %d: %+v", len(evs), r.ID, evs)
	}
	resolved := waitAlert(t, ctx, e, func(a api.Alert) bool {
		return a.Name == "HighErrorRate" && a.Labels["version"] == "v2+errors=0.3" && a.State == "resolved"
	})
	if resolved.ResolvedAt.Before(resolved.FiredAt) {
		t.Errorf("resolved alert %+v", resolved)
	}
	list, err := e.c.Alerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, rule := range list.Rules {
		if rule.LastError != "" {
			t.Errorf("rule %s (%s): %s", rule.Name, rule.Rule, rule.LastError)
		}
	}
}

func detailsWhy(ev rollout.Event) string {
	if ev.Details == nil {
		return ""
	}
	return ev.Details.Why
}

// waitAlert polls GET /api/v1/alerts until an alert satisfies ok.
func waitAlert(t *testing.T, ctx context.Context, e *env, ok func(api.Alert) bool) api.Alert {
	t.Helper()
	for {
		list, err := e.c.Alerts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range list.Alerts {
			if ok(a) {
				return a
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no such alert before the deadline; alerts: %+v", list.Alerts)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func TestAlerts_badRuleFileStopsTheServer(t *testing.T) {
	dir := t.TempDir()
	_, err := server.New(context.Background(), server.Options{DataDir: dir + "/data", APIAddr: "127.0.0.1:0",
		AlertRules: []string{planRules, "testdata/does-not-exist.rules.yml"}})
	if err == nil || !strings.Contains(err.Error(), "--alert-rules") || !strings.Contains(err.Error(), "does-not-exist.rules.yml") {
		t.Fatalf("New: %v", err)
	}
	if _, err := os.Stat(dir + "/data"); !os.IsNotExist(err) {
		t.Errorf("a bad rule file left a data directory behind: %v", err)
	}
}
