package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/notify"
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
	hooks := newHookRecorder(t)
	notifications := filepath.Join(t.TempDir(), "notifications.yml")
	if err := os.WriteFile(notifications, []byte(`receivers:
- name: team
  slack: {webhookURL: `+hooks.URL+`/slack/T0/B0}
- name: oncall
  pagerduty: {routingKey: KEY, url: `+hooks.URL+`/pd/v2/enqueue}
- name: audit
  webhook: {url: `+hooks.URL+`/hook, secret: s3cret}
route:
  alerts: [team, oncall]
  events: [team, audit]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startServerOpts(t, spec, func(o *server.Options) {
		o.Notifications = notifications
		o.AlertRules = []string{planRules}
		o.AlertInterval = 200 * time.Millisecond
		o.AlertClock = clock
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r := deployUnderLoad(t, ctx, e, "v2+errors=0.3")
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
	r, why := waitAbortedBy(t, ctx, e, r.ID, "alert HighErrorRate")
	if !strings.Contains(why, "HighErrorRate") {
		t.Errorf("the Aborted event by alert HighErrorRate does not name it: %q", why)
	}
	resolved := waitAlert(t, ctx, e, func(a api.Alert) bool {
		return a.Name == "HighErrorRate" && a.Labels["version"] == "v2+errors=0.3" && a.State == "resolved"
	})
	if resolved.ResolvedAt.Before(resolved.FiredAt) {
		t.Errorf("resolved alert %+v", resolved)
	}
	// The notifications: Slack got the alert firing and resolved and the
	// rollout's events; PagerDuty a trigger and its resolve; the webhook
	// the events, signed.
	hooks.waitFor(t, ctx, "/slack/T0/B0", "[RESOLVED] HighErrorRate")
	hooks.waitFor(t, ctx, "/slack/T0/B0", "[FIRING] HighErrorRate web/prod v2+errors=0.3: High error rate detected")
	hooks.waitFor(t, ctx, "/slack/T0/B0", fmt.Sprintf("rollout %d started", r.ID))
	hooks.waitFor(t, ctx, "/slack/T0/B0", fmt.Sprintf("rollout %d aborted", r.ID))
	trigger := hooks.waitFor(t, ctx, "/pd/v2/enqueue", `"event_action":"trigger"`)
	resolve := hooks.waitFor(t, ctx, "/pd/v2/enqueue", `"event_action":"resolve"`)
	var tk, rk struct {
		DedupKey string `json:"dedup_key"`
	}
	if json.Unmarshal(trigger.body, &tk) != nil || json.Unmarshal(resolve.body, &rk) != nil || tk.DedupKey == "" || tk.DedupKey != rk.DedupKey {
		t.Errorf("PagerDuty resolve %s does not match trigger %s", resolve.body, trigger.body)
	}
	mfs := scrape(t, e)
	// The history keeps what the plan's rules read (the per-revision
	// requests and latency buckets, the recorded series), not every series.
	exposed := 0
	for _, mf := range mfs {
		exposed += len(mf.GetMetric())
	}
	if kept := mfs["gantry_alerting_history_series"].GetMetric(); len(kept) != 1 || kept[0].GetGauge().GetValue() == 0 || int(kept[0].GetGauge().GetValue()) >= exposed {
		t.Errorf("gantry_alerting_history_series %v: want some, fewer than the %d metrics gantry exposes", kept, exposed)
	}
	sent := map[string]float64{}
	for _, m := range mfs["gantry_notifications_total"].GetMetric() {
		if label(m, "result") == "sent" {
			sent[label(m, "receiver")] = m.GetCounter().GetValue()
		}
	}
	if sent["team"] < 4 || sent["oncall"] < 2 {
		t.Errorf("gantry_notifications_total sent per receiver: %v; want at least 4 to team and 2 to oncall", sent)
	}
	signed := hooks.waitFor(t, ctx, "/hook", `"kind":"aborted"`)
	if !notify.Verify("s3cret", signed.body, signed.header.Get(notify.SignatureHeader)) {
		t.Errorf("webhook body not signed with the secret: %s", signed.header.Get(notify.SignatureHeader))
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

// hookRecorder is a local HTTP receiver of notifications.
type hookRecorder struct {
	*httptest.Server
	mu  sync.Mutex
	got []hookRequest
}

type hookRequest struct {
	path   string
	header http.Header
	body   []byte
}

func newHookRecorder(t *testing.T) *hookRecorder {
	h := &hookRecorder{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got = append(h.got, hookRequest{r.URL.Path, r.Header, b})
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

// waitFor returns the first request to path whose body has text.
func (h *hookRecorder) waitFor(t *testing.T, ctx context.Context, path, text string) hookRequest {
	t.Helper()
	for {
		h.mu.Lock()
		var paths []string
		for _, r := range h.got {
			if r.path == path && strings.Contains(string(r.body), text) {
				h.mu.Unlock()
				return r
			}
			paths = append(paths, r.path+" "+string(r.body))
		}
		h.mu.Unlock()
		select {
		case <-ctx.Done():
			t.Fatalf("no request to %s with %q; got:\n%s", path, text, strings.Join(paths, "\n"))
		case <-time.After(100 * time.Millisecond):
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
