package auth_test

import (
	"errors"
	"testing"

	"github.com/gantry-dev/gantry/auth"
)

func TestPrincipal_Allow(t *testing.T) {
	ci := auth.Principal{Name: "ci", Grants: []auth.Grant{{Env: "staging", Role: auth.Deployer}, {Env: "production", Role: auth.Viewer}}}
	admin := auth.Principal{Name: "admin", Grants: auth.Grants(auth.Admin, "*")}
	qa := auth.Principal{Name: "qa", Grants: []auth.Grant{{Env: "*", Role: auth.Viewer}, {Env: "staging", Role: auth.Approver}}}
	tests := []struct {
		name    string
		p       auth.Principal
		env     string
		need    auth.Role
		wantErr string // "" allowed
	}{
		{"exact env, same role", ci, "staging", auth.Deployer, ""},
		{"exact env, lower role needed", ci, "staging", auth.Viewer, ""},
		{"role too low", ci, "production", auth.Deployer,
			"deploy needs role deployer on environment production; token 'ci' has viewer"},
		{"no grant on env", ci, "development", auth.Viewer,
			"deploy needs role viewer on environment development; token 'ci' has no role there; it has deployer on staging, viewer on production"},
		{"star grant covers every env", admin, "production", auth.Admin, ""},
		{"all envs needs a star grant", ci, "*", auth.Viewer,
			`deploy needs role viewer on every environment ("*"); token 'ci' has deployer on staging, viewer on production`},
		{"star and exact: highest wins", qa, "staging", auth.Approver, ""},
		{"star applies elsewhere", qa, "production", auth.Viewer, ""},
		{"anywhere", ci, "", auth.Deployer, ""},
		{"anywhere, too low", ci, "", auth.Admin,
			"deploy needs role admin on some environment; token 'ci' has deployer on staging, viewer on production"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Allow("deploy", tc.env, tc.need)
			got := ""
			if err != nil {
				got = err.Error()
				var d *auth.Denied
				if !errors.As(err, &d) {
					t.Errorf("error %v is not a *Denied", err)
				}
			}
			if got != tc.wantErr {
				t.Errorf("Allow(%q, %v) = %q, want %q", tc.env, tc.need, got, tc.wantErr)
			}
		})
	}
}

func TestRole_order(t *testing.T) {
	order := []auth.Role{0, auth.Viewer, auth.Deployer, auth.Approver, auth.Admin}
	for i := 1; i < len(order); i++ {
		if order[i-1] >= order[i] {
			t.Errorf("%v >= %v, want roles ordered viewer < deployer < approver < admin", order[i-1], order[i])
		}
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range []auth.Role{auth.Viewer, auth.Deployer, auth.Approver, auth.Admin} {
		got, err := auth.ParseRole(r.String())
		if err != nil || got != r {
			t.Errorf("ParseRole(%q) = %v, %v; want %v", r.String(), got, err, r)
		}
	}
	if got, err := auth.ParseRole("ADMIN"); err != nil || got != auth.Admin {
		t.Errorf("ParseRole(ADMIN) = %v, %v; want admin", got, err)
	}
	if _, err := auth.ParseRole("root"); err == nil {
		t.Error("ParseRole(root): no error")
	}
}

func TestFourEyes(t *testing.T) {
	tests := []struct {
		requester, approver string
		ok                  bool
	}{
		{"alice", "bob", true},
		{"alice", "alice", false},
		{"alice", " Alice ", false},
		{"", "bob", false},
		{"alice", "", false},
	}
	for _, tc := range tests {
		err := auth.FourEyes(tc.requester, tc.approver)
		if (err == nil) != tc.ok {
			t.Errorf("FourEyes(%q, %q) = %v, want ok=%v", tc.requester, tc.approver, err, tc.ok)
		}
		if err != nil && !errors.Is(err, auth.ErrSelfApproval) {
			t.Errorf("FourEyes(%q, %q) = %v, want it to wrap ErrSelfApproval", tc.requester, tc.approver, err)
		}
	}
	if p := auth.DefaultPolicy(); !p.NeedsApproval("production") || p.NeedsApproval("staging") {
		t.Error("DefaultPolicy: want approvals in production only")
	}
}

func TestBearerToken(t *testing.T) {
	tests := map[string]string{
		"Bearer gantry_abc":   "gantry_abc",
		"bearer  gantry_abc ": "gantry_abc",
		"Basic dXNlcjpwYXNz":  "",
		"gantry_abc":          "",
		"":                    "",
	}
	for in, want := range tests {
		if got := auth.BearerToken(in); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", in, got, want)
		}
	}
}
