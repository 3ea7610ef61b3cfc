package server_test

import (
	"context"
	"math"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/dataplane"
	"github.com/gantry-dev/gantry/metrics/activeusers"
)

// TestActiveUsers_carryAcrossRestartAndUpgrade counts revision 1's
// active users (client addresses over the default 5-minute window) with
// clients on distinct loopback addresses through a `gantry proxy` data
// plane, then: kills `gantry server` with SIGKILL and starts it again
// (the data plane keeps serving), and replaces the data plane with
// `gantry proxy upgrade` (a new process takes the listeners over, and the
// sketches with them), and kills that one (its standby or a new process
// takes over). After each, the users counted before are still counted
// (the server carries the sketches it last read of a process that is
// gone; an upgrade carries even those not read yet), and the same clients
// coming back are not counted twice: every process hashes them with the
// installation's seed, kept in the state store.
func TestActiveUsers_carryAcrossRestartAndUpgrade(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: real server, data plane and instances")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	data, srv, c := dataPlaneServer(t)
	addr := freeAddr(t)
	applyRollingV1(ctx, t, c, addr)
	url := "http://" + addr + "/"

	sendFromAddrs(t, url, 60)
	waitUsers(ctx, t, c, 60, "60 clients")

	// gantry server restarts; the data plane keeps serving and counting.
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	srv.cmd.Wait()
	srv = startServerProc(t, data, freeAddr(t))
	c = serverClient(t, srv)
	waitUsers(ctx, t, c, 60, "60 clients, after the server's restart")
	sendFromAddrs(t, url, 80) // the 60 again and 20 new
	waitUsers(ctx, t, c, 80, "the 60 again and 20 more, after the server's restart")

	// The data plane is replaced by a new process, right after serving
	// the 80 again and 20 more: nothing reads its counters in between
	// (unless the leader's 15-second read falls there), so these 20 stay
	// counted only because the old process hands its sketches over.
	sendFromAddrs(t, url, 100)
	before, err := dataplane.ReadRecord(data)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(ctx, gantryBin, "proxy", "upgrade", "--data", data).CombinedOutput(); err != nil {
		t.Fatalf("gantry proxy upgrade: %v\n%s", err, out)
	}
	waitDataPlane(ctx, t, c, func(dp *api.DataPlane) bool { return dp.State == "Up" && dp.Boot != before.BootID })
	waitUsers(ctx, t, c, 100, "100 clients, 20 of them served just before the data plane's upgrade")
	sendFromAddrs(t, url, 120) // the 100 again and 20 new, to the new process
	waitUsers(ctx, t, c, 120, "the 100 again and 20 more, after the data plane's upgrade")

	// The data plane dies: its standby (or a new process) takes over.
	upgraded, err := dataplane.ReadRecord(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(upgraded.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitDataPlane(ctx, t, c, func(dp *api.DataPlane) bool { return dp.State == "Up" && dp.Boot != upgraded.BootID })
	waitUsers(ctx, t, c, 120, "120 clients, after the data plane's takeover")
	sendFromAddrs(t, url, 140)
	waitUsers(ctx, t, c, 140, "the 120 again and 20 more, after the data plane's takeover")
}

// waitUsers waits until the status API estimates web/prod revision 1's
// active users at want, within 3 standard errors.
func waitUsers(ctx context.Context, t *testing.T, c *client.Client, want int, what string) {
	t.Helper()
	bound := math.Max(1, 3*activeusers.StdError*float64(want))
	last := -1.0
	for ctx.Err() == nil {
		if st, err := c.Status(ctx, "web", "prod"); err == nil {
			for _, rs := range st.Revisions {
				if rs.Number == 1 && rs.Group == "" {
					last = rs.Traffic.ActiveUsers
				}
			}
			if math.Abs(last-float64(want)) <= bound {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: revision 1 has %.1f active users estimated, want %d ± %.0f", what, last, want, bound)
}
