package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/dataplane"
	"github.com/gantry-dev/gantry/loadgen"
	"github.com/gantry-dev/gantry/rollout"
)

// TestDataPlane_ProxyCrashUnderLoad kills the data plane process (`gantry
// proxy`) with SIGKILL GANTRY_PROXY_KILLS times (default 3) under
// GANTRY_PROXY_RATE requests/s (default 1000), each time once the warm
// standby runs (GANTRY_PROXY_STANDBY=0: with --no-proxy-standby, the
// server starts each replacement). The standby and the server hold copies
// of its listening sockets, so no connection is refused while it is gone:
// a client connecting right after the kill is answered by the replacement.
// The only requests that fail are those in flight in the killed process,
// at most one per load worker; each crash is reported as a
// DataPlaneRestarted event whose typed facts name both processes, the
// held listeners and the downtime. The figures (time from the kill to
// a new connection's answer, the event's downtime) are printed for
// bench/dataplane-crash.sh, not asserted.
func TestDataPlane_ProxyCrashUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("kills gantry proxy under load")
	}
	killInstancesAtEnd(t)
	data, listen, addr := t.TempDir(), freeAddr(t), freeAddr(t)
	stopDataPlaneAtEnd(t, data)
	kills, rate := envInt(t, "GANTRY_PROXY_KILLS", 3), envInt(t, "GANTRY_PROXY_RATE", 1000)
	const workers = 16
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(2+kills/5)*time.Minute)
	defer cancel()
	standby := os.Getenv("GANTRY_PROXY_STANDBY") != "0"
	args := []string{"--stop-instances-on-exit"}
	if !standby {
		args = append(args, "--no-proxy-standby")
	}
	srv := startServerProc(t, data, listen, args...)
	c, err := client.New(client.Options{Server: srv.url, Token: srv.token})
	if err != nil {
		t.Fatal(err)
	}
	applyRollingV1(ctx, t, c, addr)
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	l := loadgen.Start(loadCtx, loadgen.Options{URL: "http://" + addr + "/", Rate: rate, Workers: workers})
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

	var answered, downtimes []time.Duration
	for i := 1; i <= kills; i++ {
		time.Sleep(time.Duration(500+rand.IntN(1000)) * time.Millisecond)
		if standby {
			waitDataPlane(ctx, t, c, func(dp *api.DataPlane) bool { return dp.StandbyPID != 0 })
		}
		rec, err := dataplane.ReadRecord(data)
		if err != nil {
			t.Fatal(err)
		}
		failedBefore := l.Failed()
		killed := time.Now()
		if err := syscall.Kill(rec.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// A new connection right after the kill waits in the held socket's
		// backlog and is answered by the replacement: never refused.
		resp, err := fresh.Get("http://" + addr + "/")
		if err != nil {
			t.Fatalf("kill %d: a new connection after the kill: %v (refused while the data plane restarted)", i, err)
		}
		resp.Body.Close()
		answered = append(answered, time.Since(killed))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("kill %d: a new connection after the kill got %d, want 200", i, resp.StatusCode)
		}
		dp := waitDataPlane(ctx, t, c, func(dp *api.DataPlane) bool {
			return dp.State == "Up" && dp.Restarts == i && dp.LastCrash != nil && dp.LastCrash.PID == rec.PID
		})
		lc := dp.LastCrash
		downtimes = append(downtimes, time.Duration(lc.DowntimeMs)*time.Millisecond)
		if lc.HeldListeners != 1 || lc.NewPID != dp.PID || lc.NewBoot != dp.Boot || lc.Boot != rec.BootID || lc.Standby != standby {
			t.Errorf("kill %d: last crash %+v, data plane pid %d boot %s, killed %+v; want its one listener held and both processes named", i, lc, dp.PID, dp.Boot, rec)
		}
		t.Logf("kill %d: pid %d; a new connection was answered %d ms after the kill; reported: standby %v, down %d ms (restart %d ms), %d in flight, %d held, %d queued; the load saw %d failed; load average %s",
			i, rec.PID, answered[i-1].Milliseconds(), lc.Standby, lc.DowntimeMs, lc.RestartMs, lc.InFlight, lc.HeldListeners, lc.Queued, l.Failed()-failedBefore, loadAverage())
	}
	time.Sleep(time.Second)
	stopLoad()
	l.Wait()
	// Only requests in flight in a killed process can fail: at most one per
	// worker and kill. A refused connection while it is down would be
	// many more (rate × downtime).
	if max := uint64(kills * workers); l.Failed() > max {
		t.Errorf("%d of %d requests failed across %d kills (last: %s); want at most %d, the requests in flight", l.Failed(), l.Total(), kills, l.LastError(), max)
	}
	events, err := c.Events(ctx, "web", "prod", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	restarted := 0
	for _, e := range events {
		if e.Reason != rollout.ReasonDataPlaneRestarted {
			continue
		}
		restarted++
		if e.Details == nil || e.Details.DataPlane == nil || e.Details.DataPlane.NewBoot == "" {
			t.Errorf("DataPlaneRestarted event %d has no typed crash facts: %+v", e.ID, e.Details)
		}
	}
	if restarted != kills {
		t.Errorf("%d DataPlaneRestarted events for %d kills", restarted, kills)
	}
	t.Logf("proxy crashes (standby %v): %d kills at %d requests/s: %d requests, %d failed; new connection answered after the kill %s; reported downtime %s; load average %s",
		standby, kills, rate, l.Total(), l.Failed(), spread(answered), spread(downtimes), loadAverage())
	srv.cmd.Process.Signal(syscall.SIGTERM)
	srv.cmd.Wait()
}

// spread renders durations as min / median / p90 / max in milliseconds.
func spread(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	q := func(f float64) int64 { return s[int(f*float64(len(s)-1))].Milliseconds() }
	return fmt.Sprintf("min %d ms, median %d ms, p90 %d ms, max %d ms (n=%d)", s[0].Milliseconds(), q(0.5), q(0.9), s[len(s)-1].Milliseconds(), len(s))
}

// loadAverage is the machine's 1, 5 and 15 minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
