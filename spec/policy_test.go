package spec

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const policyBase = `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
hooks:
  - name: notify
    command: [./notify.sh]
  - name: ci
    webhook: {url: "https://ci.example.com/gantry", secret: {serverEnv: HOOK_SECRET}}
    timeoutSeconds: 5
releaseNotes: {changelog: CHANGELOG.md}
environments:
  - name: staging
    strategy:
      type: BlueGreen
      blueGreen: {autoPromotion: false}
    policy:
      perfTest: {path: /, requestsPerSecond: 20, durationSeconds: 5}
  - name: production
`

func TestParse_Policy(t *testing.T) {
	src := policyBase + `    promoteFrom: staging
    strategy: {type: BlueGreen}
    policy:
      approval: {approvals: 2, expiry: 12h}
      windows: ["Sun 02:00-04:00 UTC", "Wed 10:00-11:00 Europe/Berlin"]
      freezes: [{from: 2026-12-20, until: 2027-01-02, reason: year-end}]
      hooks: {preRollout: [ci], postRollout: [notify], onRollback: [notify]}
      require: [rollbackTarget, alertRules]
`
	app, err := Parse("gantry.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	prod, _ := app.Environment("production")
	if prod.PromoteFrom != "staging" || prod.Policy.Approval.Count() != 2 || prod.Policy.Approval.ExpiryDuration() != 12*time.Hour {
		t.Fatalf("production = %+v", prod)
	}
	if prod.Policy.Approval.RoleOrDefault() != "approver" || prod.Policy.Approval.AllowRequester {
		t.Errorf("approval defaults = %+v", prod.Policy.Approval)
	}
	cal := prod.Policy.Calendar()
	if len(cal.Windows) != 2 || len(cal.Freezes) != 1 {
		t.Fatalf("calendar = %+v", cal)
	}
	if v := cal.Check(time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)); !v.Open {
		t.Errorf("Sunday 03:00 UTC: %s", v.Reason)
	}
	if !prod.Policy.Requires(GateAlertRules) {
		t.Error("alertRules not required")
	}
}

func TestParse_BadPolicy(t *testing.T) {
	tests := []struct {
		name     string
		prod     string
		line     int
		path     string
		fragment string
	}{
		{"unknown environment", "    promoteFrom: stagign\n", 21, "environments[1].promoteFrom", `"stagign" is not an environment of this app; use one of: staging`},
		{"later environment", "    promoteFrom: production\n", 21, "environments[1].promoteFrom", "cannot promote from itself"},
		{"unparsable window", "    policy:\n      windows: [\"Sun 02:00-04:00 UTC\", \"Sunday 2am\"]\n", 22, "environments[1].policy.windows[1]", `times "2am" need a start and an end`},
		{"bad zone", "    policy:\n      windows: [\"Sun 02:00-04:00 Mars/Base\"]\n", 22, "environments[1].policy.windows[0]", "is not a time zone"},
		{"freeze end before start", "    policy:\n      freezes: [{from: 2026-12-20, until: 2026-12-01}]\n", 22, "environments[1].policy.freezes[0].until", "is not after from"},
		{"gate naming a missing hook", "    policy:\n      hooks:\n        preRollout: [notfiy]\n", 23, "environments[1].policy.hooks.preRollout[0]", `hook "notfiy" is not declared in hooks; did you mean notify?`},
		{"approval role", "    policy:\n      approval: {role: deployer}\n", 22, "environments[1].policy.approval.role", `"deployer" cannot approve`},
		{"approval expiry", "    policy:\n      approval: {expiry: forever}\n", 22, "environments[1].policy.approval.expiry", "is not a duration"},
		{"perf test without a preview", "    policy:\n      perfTest: {}\n", 22, "environments[1].policy.perfTest", "needs strategy BlueGreen with blueGreen.autoPromotion: false"},
		{"unknown checklist gate", "    policy:\n      require: [securityScan]\n", 22, "environments[1].policy.require[0]", `"securityScan" is not a checklist gate`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("gantry.yaml", []byte(policyBase+tc.prod))
			var list ErrorList
			if !errors.As(err, &list) || len(list) != 1 {
				t.Fatalf("Parse: %v, want one error", err)
			}
			e := list[0]
			if e.File != "gantry.yaml" || e.Line != tc.line || e.Path != tc.path || !strings.Contains(e.Message, tc.fragment) {
				t.Errorf("got %s (line %d, path %s), want line %d, path %s, containing %q", e, e.Line, e.Path, tc.line, tc.path, tc.fragment)
			}
		})
	}
}

func TestParse_BadHooks(t *testing.T) {
	src := strings.Replace(policyBase, "    command: [./notify.sh]\n", "    webhook: {url: ftp://x}\n", 1)
	_, err := Parse("gantry.yaml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "gantry.yaml:8:") || !strings.Contains(err.Error(), "hooks[0].webhook.url") {
		t.Fatalf("Parse: %v, want hooks[0].webhook.url at line 8", err)
	}
}
