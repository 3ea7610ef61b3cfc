package server_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/metrics/export"
)

// TestMonitoringExport_realPrometheus loads the rule file gantry monitoring
// export writes into the real Prometheus, scraping a real server under
// load: every rule evaluates without error, the recorded request rate of
// v1 appears, and the dashboard's queries return v1's series.
func TestMonitoringExport_realPrometheus(t *testing.T) {
	e := startServer(t, 60)
	tg := export.Target{App: "web", Env: "prod"}
	rules, err := export.Rules(tg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), tg.Name()+".rules.yml")
	if err := os.WriteFile(path, rules, 0o600); err != nil {
		t.Fatal(err)
	}
	base := startPrometheus(t, e, path)
	awaitScrape(t, base)
	l, stop := e.load(t)
	defer stop()
	deadline := time.Now().Add(60 * time.Second)
	for promQuery(t, base, export.RecordRequestRate+`{app="web",env="prod"}`, "version")["v1"] <= 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no recorded request rate of v1 within 60s (%d requests sent)", l.Total())
		}
		time.Sleep(500 * time.Millisecond)
	}
	stop()

	groups := promRules(t, base)
	if len(groups) != 2 {
		t.Fatalf("prometheus loaded %d rule groups, want 2: %+v", len(groups), groups)
	}
	n := 0
	for _, g := range groups {
		for _, r := range g.Rules {
			n++
			if r.Health != "ok" || r.LastError != "" {
				t.Errorf("rule %s: health %q, error %q", r.Name, r.Health, r.LastError)
			}
		}
	}
	if n != 10 {
		t.Errorf("%d rules evaluated, want 10", n)
	}
	for _, rec := range []string{export.RecordLatencyP95, export.RecordErrorRatio} {
		if got := promQuery(t, base, rec+`{app="web",env="prod"}`, "version"); len(got) == 0 {
			t.Errorf("recorded %s: no series", rec)
		}
	}

	// The dashboard's queries, with Grafana's variables expanded, answer per version.
	dash := strings.NewReplacer("$__rate_interval", "1m", "$env", "prod")
	for _, p := range export.Panels(export.Target{App: "web"}) {
		q := p.Targets[0]
		if !strings.Contains(q.Legend, "{{version}}") {
			continue
		}
		if got := promQuery(t, base, dash.Replace(q.Expr), "version"); len(got) == 0 || got["v1"] != got["v1"] {
			t.Errorf("panel %q: query %s answered %v, want a value for v1", p.Title, q.Expr, got)
		}
	}
}

type promRuleGroup struct {
	Name  string `json:"name"`
	Rules []struct {
		Name      string `json:"name"`
		Health    string `json:"health"`
		LastError string `json:"lastError"`
	} `json:"rules"`
}

// promRules lists the rule groups Prometheus evaluates, once each has been evaluated.
func promRules(t *testing.T, base string) []promRuleGroup {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Groups []promRuleGroup `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r.Data.Groups
}
