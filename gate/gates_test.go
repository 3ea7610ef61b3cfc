package gate

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/calendar"
	"github.com/gantry-dev/gantry/spec"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) // a Wednesday

func TestCheckApprovals(t *testing.T) {
	p := ApprovalPolicy{Count: 1, Expiry: 24 * time.Hour}
	two := ApprovalPolicy{Count: 2, Expiry: 24 * time.Hour}
	tests := []struct {
		name      string
		p         ApprovalPolicy
		approvals []Approval
		status    Status
		fragment  string
	}{
		{"none", p, nil, Fail, "0 of 1 approval(s)"},
		{"other person", p, []Approval{{Approver: "bob", At: now.Add(-time.Hour)}}, Pass, "approved by bob (1 of 1 needed)"},
		{"self-approval refused", p, []Approval{{Approver: "Alice ", At: now.Add(-time.Hour)}}, Fail, "alice's own approval does not count (four eyes)"},
		{"self-approval allowed", ApprovalPolicy{Count: 1, Expiry: time.Hour, AllowRequester: true}, []Approval{{Approver: "alice", At: now.Add(-time.Minute)}}, Pass, "approved by alice"},
		{"expired", p, []Approval{{Approver: "bob", At: now.Add(-25 * time.Hour)}}, Fail, "1 approval(s) older than 24h0m0s expired"},
		{"same person twice counts once", two, []Approval{{Approver: "bob", At: now}, {Approver: "BOB", At: now}}, Fail, "1 of 2 approval(s) (bob)"},
		{"two people", two, []Approval{{Approver: "bob", At: now}, {Approver: "carol", At: now}}, Pass, "bob, carol"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := CheckApprovals(tc.p, "alice", tc.approvals, now)
			if r.Status != tc.status || !strings.Contains(r.Reason, tc.fragment) {
				t.Errorf("got %s %q, want %s containing %q", r.Status, r.Reason, tc.status, tc.fragment)
			}
		})
	}
}

func TestCheckWindow(t *testing.T) {
	w, _ := calendar.ParseWindow("Sun 02:00-04:00 UTC")
	cal := calendar.Calendar{Windows: []calendar.Window{w}}
	r := CheckWindow(cal, now, "")
	if r.Status != Fail || !r.Blocks() || !strings.Contains(r.Reason, "next window opens 2026-11-29 02:00 UTC (Sun)") {
		t.Errorf("outside: %s %q", r.Status, r.Reason)
	}
	r = CheckWindow(cal, now, "hotfix for INC-42")
	if r.Status != Overridden || r.Blocks() || !strings.Contains(r.Reason, "overridden: hotfix for INC-42") {
		t.Errorf("override: %s %q", r.Status, r.Reason)
	}
	if r := CheckWindow(cal, time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC), ""); r.Status != Pass {
		t.Errorf("inside: %s %q", r.Status, r.Reason)
	}
}

func TestCheckPromotion(t *testing.T) {
	if r := CheckPromotion("1.2.0", Proof{From: "staging"}, ""); r.Status != Fail || !strings.Contains(r.Reason, "never succeeded in staging") {
		t.Errorf("unproven: %s %q", r.Status, r.Reason)
	}
	if r := CheckPromotion("1.2.0", Proof{From: "staging", Revision: 3, SpecChanged: true}, ""); r.Status != Fail || !strings.Contains(r.Reason, "applied again") {
		t.Errorf("changed spec: %s %q", r.Status, r.Reason)
	}
	if r := CheckPromotion("1.2.0", Proof{From: "staging"}, "incident"); r.Status != Overridden {
		t.Errorf("override: %s %q", r.Status, r.Reason)
	}
	if r := CheckPromotion("1.2.0", Proof{From: "staging", Revision: 3, Digest: "sha256:abc"}, ""); r.Status != Pass {
		t.Errorf("proven: %s %q", r.Status, r.Reason)
	}
}

func TestEvaluate(t *testing.T) {
	env := spec.Environment{Name: "production", PromoteFrom: "staging", Policy: &spec.EnvironmentPolicy{
		Approval: &spec.ApprovalPolicy{}, Windows: []string{"Sun 02:00-04:00 UTC"}, Require: []string{spec.GateAlertRules},
	}}
	c := Evaluate(Facts{Version: "1.2.0", Requester: "alice", Now: now, Env: env,
		Hooks: []HookOutcome{{Name: "ci", Err: errors.New("webhook https://ci: no answer within 2s")}}})
	var got []string
	for _, r := range c {
		if r.Blocks() {
			got = append(got, r.Gate)
		}
	}
	want := "window promotion approval alertRules hook:ci"
	if strings.Join(got, " ") != want {
		t.Fatalf("blocking gates = %v, want %s\n%s", got, want, c)
	}
	if c.Passed() || !strings.Contains(c.Refusal(), "gate hook:ci: webhook https://ci: no answer within 2s") {
		t.Errorf("refusal = %q", c.Refusal())
	}
	// Without a policy only the always-on gates run, and none blocks.
	if c := Evaluate(Facts{Version: "1", Now: now, Env: spec.Environment{Name: "dev"}}); !c.Passed() || len(c) != 4 {
		t.Errorf("no policy:\n%s", c)
	}
}
