package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/rollout"
)

// baselineSpec runs 3 instances and a canary at 25% (one canary instance)
// that is then watched for pause; analysis is the analysis block's
// fields, such as "baseline: primary".
func baselineSpec(pause, analysis string) string {
	return fmt.Sprintf(`apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
  replicas: 3
  workload:
    command: %s
    args: [sample, --port, "{{.Port}}", --version, "{{.Version}}", --instance, "{{.Instance}}"]
  readinessProbe: {httpGet: {path: /ready}, periodSeconds: 1, failureThreshold: 3}
  progressDeadlineSeconds: 120
  terminationGracePeriodSeconds: 5
  analysis: {minRequests: 200, disabled: [ErrorRate], %s}
  strategy:
    type: Canary
    canary:
      steps:
        - setWeight: 25
        - pause: {duration: %s}
environments:
  - name: prod
`, gantryBin, analysis, pause)
}

// groupsSeen watches an environment's status while a rollout runs and
// remembers the most baseline instances ready and the largest baseline
// weight it saw.
type groupsSeen struct {
	ready  int
	weight float64
}

func (g *groupsSeen) watch(t *testing.T, e *env) func(rollout.Rollout) {
	return func(r rollout.Rollout) {
		st, err := e.c.Status(context.Background(), "web", "prod")
		if err != nil {
			t.Logf("status: %v", err)
			return
		}
		for _, rs := range st.Revisions {
			if rs.Group != rollout.GroupBaseline {
				continue
			}
			if rs.Number != r.FromRevision {
				t.Errorf("a baseline of revision %d in a rollout from revision %d", rs.Number, r.FromRevision)
			}
			ready := 0
			for _, in := range rs.Instances {
				if in.Ready && in.Group == rollout.GroupBaseline {
					ready++
				}
			}
			g.ready, g.weight = max(g.ready, ready), max(g.weight, rs.Traffic.Weight)
		}
	}
}

// deployWatching deploys version and waits for its rollout to end,
// watching the baseline on the way.
func (e *env) deployWatching(t *testing.T, version string) (rollout.Rollout, groupsSeen) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := e.c.Deploy(ctx, "web", "prod", version)
	if err != nil {
		t.Fatalf("deploy %s: %v", version, err)
	}
	var seen groupsSeen
	if r, err = e.c.WaitRollout(ctx, r.ID, 200*time.Millisecond, seen.watch(t, e)); err != nil {
		t.Fatalf("wait for rollout of %s: %v (last phase %s)", version, err, r.Phase)
	}
	return r, seen
}

// waitNoBaseline waits until the environment runs no baseline instance.
func (e *env) waitNoBaseline(t *testing.T) {
	t.Helper()
	waitFor(t, time.Minute, "the baseline instances to stop", func() bool {
		for _, in := range e.srv.Instances("web", "prod") {
			if in.Group == rollout.GroupBaseline {
				return false
			}
		}
		return true
	})
}

// TestServer_LikeForLikeBaseline runs canaries on real processes under
// real traffic with the default like-for-like baseline: a version with 5%
// errors is rolled back by the ErrorTest against fresh stable instances
// that took the canary's share, a healthy one is promoted, and the
// baseline is gone when the rollout ends; with analysis.baseline: primary
// no baseline runs and the bad version is still rolled back.
func TestServer_LikeForLikeBaseline(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs real instances under load")
	}
	t.Run("errors rolled back by ErrorTest", func(t *testing.T) {
		e := startServerWith(t, baselineSpec("10m", ""))
		_, stop := e.load(t)
		r, seen := e.deployWatching(t, "v2+errors=0.05")
		stop()
		if r.Phase != rollout.RolledBack || r.Reason != "ErrorTest" {
			t.Fatalf("rollout = %s %s (%s), want RolledBack by ErrorTest", r.Phase, r.Reason, r.Message)
		}
		if seen.ready != 1 || seen.weight < 24 || seen.weight > 26 {
			t.Errorf("baseline seen: %d ready instance(s), weight up to %.1f%%; want 1 instance at 25%%", seen.ready, seen.weight)
		}
		t.Logf("rolled back after %s: %s", r.FinishedAt.Sub(r.CreatedAt).Round(time.Millisecond), r.Message)
		e.waitNoBaseline(t)
	})
	t.Run("healthy promoted", func(t *testing.T) {
		e := startServerWith(t, baselineSpec("2s", ""))
		l, stop := e.load(t)
		r, seen := e.deployWatching(t, "v2")
		stop()
		if r.Phase != rollout.Succeeded {
			t.Fatalf("rollout = %s %s: %s", r.Phase, r.Reason, r.Message)
		}
		if l.Failed() != 0 {
			t.Errorf("%d requests failed; last: %s", l.Failed(), l.LastError())
		}
		if seen.ready != 1 {
			t.Errorf("baseline seen with %d ready instance(s), want 1", seen.ready)
		}
		e.wantRolloutEvent(t, r.ID, rollout.ReasonScaled, "baseline scaled to 1 instance(s)")
		e.wantRolloutEvent(t, r.ID, rollout.ReasonScaled, "baseline scaled to 0 instance(s)")
		e.waitNoBaseline(t)
	})
	t.Run("baseline primary", func(t *testing.T) {
		e := startServerWith(t, baselineSpec("10m", "baseline: primary"))
		_, stop := e.load(t)
		r, seen := e.deployWatching(t, "v2+errors=0.05")
		stop()
		if r.Phase != rollout.RolledBack || r.Reason != "ErrorTest" {
			t.Fatalf("rollout = %s %s (%s), want RolledBack by ErrorTest", r.Phase, r.Reason, r.Message)
		}
		if seen.ready != 0 || seen.weight != 0 {
			t.Errorf("with baseline: primary a baseline ran: %d ready, weight %.1f%%", seen.ready, seen.weight)
		}
	})
}
