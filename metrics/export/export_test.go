package export

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gantry-dev/gantry/alerting"
)

var targets = []Target{{App: "web", Env: "prod"}, {App: "web"}}

func TestRules_prometheusRulefmt(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.Name(), func(t *testing.T) {
			b, err := Rules(tg)
			if err != nil {
				t.Fatal(err)
			}
			groups, errs := rulefmt.Parse(b, false, model.UTF8Validation, parser.NewParser(parser.Options{}), promslog.NewNopLogger())
			if len(errs) > 0 {
				t.Fatalf("rulefmt: %v\n%s", errs, b)
			}
			var alerts, records []string
			for _, g := range groups.Groups {
				for _, r := range g.Rules {
					if r.Alert != "" {
						alerts = append(alerts, r.Alert)
					} else {
						records = append(records, r.Record)
					}
					if !strings.Contains(r.Expr, `app="web"`) {
						t.Errorf("rule %s%s: expr %q does not select app web", r.Alert, r.Record, r.Expr)
					}
					if tg.Env != "" && !strings.Contains(r.Expr, `env="prod"`) {
						t.Errorf("rule %s%s: expr %q does not select env prod", r.Alert, r.Record, r.Expr)
					}
				}
			}
			if got := strings.Join(alerts, ","); got != "HighErrorRate,HighResponseTime,HighErrorShare" {
				t.Errorf("alerts: %s", got)
			}
			if len(records) != 7 {
				t.Errorf("recording rules: %v, want 7", records)
			}
			// gantry server --alert-rules loads the same file.
			if _, err := alerting.ParseRules(nil, "exported.rules.yml", b); err != nil {
				t.Errorf("gantry's rule loader: %v", err)
			}
		})
	}
}

func TestRules_promtool(t *testing.T) {
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian: apt-get install prometheus; .ci/run installs it): skipping promtool check rules")
	}
	for _, tg := range targets {
		b, err := Rules(tg)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), tg.Name()+".rules.yml")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "check", "rules", path).CombinedOutput()
		if err != nil {
			t.Fatalf("promtool check rules %s: %v\n%s\n%s", tg.Name(), err, out, b)
		}
		if !strings.Contains(string(out), "SUCCESS: 10 rules found") {
			t.Errorf("promtool check rules %s: %s", tg.Name(), out)
		}
	}
}

// grafanaVars stands in for Grafana's variables the way Grafana expands them.
var grafanaVars = strings.NewReplacer("$__rate_interval", "1m", "$env", "prod")

func TestDashboard_queriesParse(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.Name(), func(t *testing.T) {
			b, err := Dashboard(tg)
			if err != nil {
				t.Fatal(err)
			}
			var d struct {
				UID         string `json:"uid"`
				Annotations struct {
					List []struct {
						Expr string `json:"expr"`
					} `json:"list"`
				} `json:"annotations"`
				Panels []struct {
					Title   string `json:"title"`
					Targets []struct {
						Expr string `json:"expr"`
					} `json:"targets"`
				} `json:"panels"`
				Templating struct {
					List []struct {
						Name string `json:"name"`
					} `json:"list"`
				} `json:"templating"`
			}
			if err := json.Unmarshal(b, &d); err != nil {
				t.Fatalf("dashboard JSON: %v", err)
			}
			hasEnv := false
			for _, v := range d.Templating.List {
				hasEnv = hasEnv || v.Name == "env"
			}
			if hasEnv != (tg.Env == "") {
				t.Errorf("env variable: %v, want it only without an environment", hasEnv)
			}
			var exprs []string
			for _, p := range d.Panels {
				if len(p.Targets) == 0 {
					t.Errorf("panel %q has no query", p.Title)
				}
				for _, q := range p.Targets {
					exprs = append(exprs, q.Expr)
				}
			}
			for _, a := range d.Annotations.List {
				if a.Expr != "" {
					exprs = append(exprs, a.Expr)
				}
			}
			if len(d.Panels) < 4 || len(exprs) < len(d.Panels)+2 {
				t.Fatalf("%d panels, %d queries: want request rate, error share, latency, in flight and two annotations", len(d.Panels), len(exprs))
			}
			p := parser.NewParser(parser.Options{})
			for _, e := range exprs {
				if tg.Env != "" && strings.Contains(e, "$env") {
					t.Errorf("query %q: uses $env though the dashboard is for env %s", e, tg.Env)
				}
				if _, err := p.ParseExpr(grafanaVars.Replace(e)); err != nil {
					t.Errorf("query %q: %v", e, err)
				}
			}
		})
	}
}

func TestTarget_Check(t *testing.T) {
	for _, tg := range []Target{{}, {App: "Web"}, {App: "web", Env: "prod_1"}} {
		if _, err := Rules(tg); err == nil {
			t.Errorf("Rules(%+v): no error", tg)
		}
		if _, err := Dashboard(tg); err == nil {
			t.Errorf("Dashboard(%+v): no error", tg)
		}
	}
}
