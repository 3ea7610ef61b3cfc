package server_test

import (
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/rollout"
)

// TestServer_setFlagRolledBackWithTheCanary runs a canary whose first
// step raises a flag's rollout to 30% and whose next step sends the bad
// canary traffic: the analysis rolls it back, and the flag is back at 5%.
func TestServer_setFlagRolledBackWithTheCanary(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs real processes under load")
	}
	spec := strings.Replace(canarySpec(), "        - setWeight: 50\n",
		"        - setFlag: {name: new-ai-agent, percentage: 30}\n        - setWeight: 50\n", 1)
	e := startServerWith(t, spec)
	flags := `apiVersion: gantry.dev/v1
kind: Flags
environment: prod
flags:
  new-ai-agent:
    variants: {on: true, off: false}
    defaultVariant: off
    rollout: {variant: on, percentage: 5}
`
	if _, err := e.c.ApplyFlags(t.Context(), "prod", api.ApplyFlagsRequest{Source: flags}); err != nil {
		t.Fatal(err)
	}
	_, stop := e.load(t)
	r := e.deploy(t, "v2+errors=0.3")
	stop()
	if r.Phase != rollout.RolledBack {
		t.Fatalf("rollout = %s %s (%s), want RolledBack", r.Phase, r.Reason, r.Message)
	}
	hist, err := e.c.FlagHistory(t.Context(), "prod", "new-ai-agent")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range hist {
		t.Logf("v%d by %s: %s (%s)", v.Version, v.Actor, v.Flag.Summary(), v.Reason)
	}
	if len(hist) != 3 || hist[1].Flag.Rollout.Percentage != 30 || hist[1].Actor != "gantry" ||
		hist[2].Flag.Rollout.Percentage != 5 || !strings.Contains(hist[2].Reason, "rolled back") {
		t.Errorf("flag history: want v1 5%%, v2 30%% by the setFlag step, v3 back to 5%% by the rollback")
	}
	events, err := e.c.Events(t.Context(), "web", "prod", 0, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, ev := range events {
		reasons = append(reasons, string(ev.Reason))
	}
	if got := strings.Join(reasons, " "); !strings.Contains(got, "FlagSet") || !strings.Contains(got, "FlagRestored") {
		t.Errorf("events %s: want FlagSet and FlagRestored", got)
	}
}
