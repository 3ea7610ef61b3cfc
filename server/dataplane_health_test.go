package server_test

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/dataplane"
	"github.com/gantry-dev/gantry/rollout"
)

// TestDataPlane_StaleBlocksRollouts stops the data plane process
// (SIGSTOP: it lives but answers nothing): the server reports it Stale in
// the status with the reason, records a DataPlaneStale Warning event on
// the environment, and refuses a new rollout there saying why; once the
// process runs again (SIGCONT) it is Up, a DataPlaneUp event follows, and
// the same deploy is accepted.
func TestDataPlane_StaleBlocksRollouts(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	data, srv, c := dataPlaneServer(t, "--stop-instances-on-exit")
	applyRollingV1(ctx, t, c, freeAddr(t))
	rec, err := dataplane.ReadRecord(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(rec.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	t.Cleanup(func() {
		if stopped {
			syscall.Kill(rec.PID, syscall.SIGCONT)
		}
	})
	dp := waitDataPlane(ctx, t, c, func(dp *api.DataPlane) bool { return dp.State == "Stale" })
	if dp.PID != rec.PID || !strings.Contains(dp.Reason, "has not answered") {
		t.Errorf("status while the data plane is stopped: %+v; want pid %d Stale with the reason", dp, rec.PID)
	}
	_, err = c.Deploy(ctx, "web", "prod", "v2")
	var apiErr *client.Error
	if err == nil || !strings.Contains(err.Error(), "wait for the data plane") || !strings.Contains(err.Error(), "Stale") ||
		strings.Contains(err.Error(), "changed since read") {
		t.Fatalf("deploy while the data plane is Stale: %v; want it refused with the data plane's state", err)
	}
	if !errors.As(err, &apiErr) || apiErr.Status != 409 {
		t.Errorf("deploy while the data plane is Stale: %#v, want an API error with HTTP 409", err)
	}
	t.Logf("refused: %v", err)
	stale := waitEventAfter(ctx, t, c, rollout.ReasonDataPlaneStale, 0)
	if stale.Type != rollout.Warning || !strings.Contains(stale.Message, "Stale") {
		t.Errorf("event %s: %s %q; want a Warning saying Stale", stale.Reason, stale.Type, stale.Message)
	}

	if err := syscall.Kill(rec.PID, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stopped = false
	waitDataPlane(ctx, t, c, func(dp *api.DataPlane) bool { return dp.State == "Up" && dp.PID == rec.PID })
	waitEventAfter(ctx, t, c, rollout.ReasonDataPlaneUp, stale.ID)
	r, err := c.Deploy(ctx, "web", "prod", "v2")
	if err != nil {
		t.Fatalf("deploy once the data plane is Up again: %v", err)
	}
	if r, err = c.WaitRollout(ctx, r.ID, 100*time.Millisecond, nil); err != nil || r.Phase != rollout.Succeeded {
		t.Errorf("rollout once the data plane is Up again: %v %s %s", err, r.Phase, r.Message)
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	srv.cmd.Wait()
}

// waitEventAfter polls web/prod's events until one with reason newer than
// event after appears, and returns it.
func waitEventAfter(ctx context.Context, t *testing.T, c *client.Client, reason rollout.Reason, after int64) rollout.Event {
	t.Helper()
	for ctx.Err() == nil {
		events, err := c.Events(ctx, "web", "prod", 0, 0)
		if err == nil {
			for _, e := range events {
				if e.Reason == reason && e.ID > after {
					return e
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s event on web/prod", reason)
	return rollout.Event{}
}
