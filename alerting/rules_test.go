package alerting

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const planRules = "../examples/alerts/plan.rules.yml"

func TestLoadRuleFiles_planVerbatim(t *testing.T) {
	rules, err := LoadRuleFiles(nil, planRules)
	if err != nil {
		t.Fatal(err)
	}
	if got := AlertNames(rules); strings.Join(got, ",") != "HighErrorRate,HighResponseTime" {
		t.Fatalf("alerts %v", got)
	}
	if r := rules[0]; r.For.Minutes() != 5 || r.Line != 4 || r.Annotations["summary"] != "High error rate detected" {
		t.Fatalf("first rule %+v", r)
	}
}

func TestLoadRuleFiles_badInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yml", "groups:\n- name: g\n  rules:\n  - alert: Fine\n    expr: up == 0\n")
	cases := []struct {
		name, text string
		want       []string
	}{
		{"syntax.yml", "groups:\n- name: g\n  rules:\n  - alert: Broken\n    expr: rate(http_requests_total[5m] > 1\n",
			[]string{"syntax.yml:5:", `"Broken"`, "parse error"}},
		{"yaml.yml", "groups:\n- name: g\n  rules:\n  - alert: X\n    expr: up\n   for: 5m\n", []string{"yaml.yml: yaml: line", "did not find expected key"}},
		{"field.yml", "groups:\n- name: g\n  rules:\n  - alert: X\n    expr: up\n    fro: 5m\n", []string{"field.yml:", "fro"}},
		{"receiver.yml", "groups:\n- name: g\n  rules:\n  - alert: Paged\n    expr: up == 0\n    labels:\n      severity: page\n      receiver: oncall, nobody\n",
			[]string{"receiver.yml:8:", `unknown receiver "nobody"`, "notifications file"}},
	}
	known := func(n string) bool { return n == "oncall" }
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rules, err := LoadRuleFiles(known, good, write(c.name, c.text))
			if err == nil {
				t.Fatalf("loaded %d rules", len(rules))
			}
			if rules != nil {
				t.Fatalf("half-loaded: %d rules returned with the error", len(rules))
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}
