package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/server"
)

// errorShareCheck is a user-defined check of the new revision's 5xx share
// over the last 10s on gantry's own metrics, failing above 5% three times.
const errorShareCheck = `checks: [{name: error-share, intervalSeconds: 1, failureLimit: 2, successCondition: "result < 0.05",
    query: 'sum(rate(gantry_requests_total{app="{{.App}}",env="{{.Env}}",revision="{{.Revision}}",code_class="5xx"}[10s])) / sum(rate(gantry_requests_total{app="{{.App}}",env="{{.Env}}",revision="{{.Revision}}"}[10s]))'}], `

// TestQueryChecks_rollBackACanary runs a canary whose processes answer 30%
// of requests with 500 on real processes under load. The analysis' own
// error checks are off: the user-defined PromQL check, measured on
// gantry's own metrics every second, fails three times (over its failure
// limit of 2) and aborts the rollout, with the values in the event.
func TestQueryChecks_rollBackACanary(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs a canary on real processes")
	}
	spec := strings.Replace(canarySpec("ErrorRate", "ErrorTest", "ErrorEvidence"), "analysis: {", "analysis: {"+errorShareCheck, 1)
	e := startServerOpts(t, spec, func(o *server.Options) { o.AlertInterval = 200 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r := deployUnderLoad(t, ctx, e, "v2+errors=0.3")
	if _, why := waitAbortedBy(t, ctx, e, r.ID, "check error-share"); !strings.Contains(why, `check error-share failed 3 time(s), over its failure limit of 2: "result < 0.05" was false for result 0.`) || !strings.Contains(why, " at ") {
		t.Fatalf("the Aborted event by check error-share does not give the values: %q", why)
	}
	// /metrics counts the measurements by outcome.
	failed := 0.0
	for _, m := range scrape(t, e)["gantry_query_check_measurements_total"].GetMetric() {
		if label(m, "check") == "error-share" && label(m, "outcome") == "failed" && label(m, "app") == "web" {
			failed = m.GetCounter().GetValue()
		}
	}
	if failed != 3 {
		t.Errorf("gantry_query_check_measurements_total{check=\"error-share\",outcome=\"failed\"} = %v, want 3", failed)
	}
}

// deployUnderLoad deploys version to web/prod while the load runs (until
// the test ends) and returns the rollout.
func deployUnderLoad(t *testing.T, ctx context.Context, e *env, version string) rollout.Rollout {
	t.Helper()
	_, stop := e.load(t)
	t.Cleanup(stop)
	r, err := e.c.Deploy(ctx, "web", "prod", version)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// waitAbortedBy waits for rollout id to end aborted by actor and returns
// it and its Aborted event's explanation (Details.Why).
func waitAbortedBy(t *testing.T, ctx context.Context, e *env, id int64, actor string) (rollout.Rollout, string) {
	t.Helper()
	r, err := e.c.WaitRollout(ctx, id, 100*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Phase != rollout.Aborted && r.Phase != rollout.RolledBack {
		t.Fatalf("rollout ended %s %s (%s), want aborted by %s", r.Phase, r.Reason, r.Message, actor)
	}
	evs, err := e.c.Events(ctx, "web", "prod", 0, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Reason == rollout.ReasonAborted && ev.Actor == actor {
			return r, ev.Message + " " + detailsWhy(ev)
		}
	}
	t.Fatalf("no Aborted event by %s among the %d events of rollout %d: %+v", actor, len(evs), r.ID, evs)
	return r, ""
}
