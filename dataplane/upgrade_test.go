package dataplane

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestUpgrade_UnderLoad upgrades the data plane (what `gantry proxy
// upgrade` does: a new process started with --takeover) GANTRY_UPGRADES
// times (default 2) under GANTRY_UPGRADE_RATE requests/s (default 200),
// with the supervisor and its standby running, as gantry server runs
// them. The requests are POSTs on kept-alive connections, which a client
// does not resend when the connection fails under it: none may fail, no
// connection may be reset, and the standby must not take over. The
// figures are printed for bench/proxy-upgrade.sh.
func TestUpgrade_UnderLoad(t *testing.T) {
	upgrades, rate := envNum(t, "GANTRY_UPGRADES", 2), envNum(t, "GANTRY_UPGRADE_RATE", 200)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := proxyCommand(t)
	sup, err := Supervise(ctx, SupervisorOptions{DataDir: dir, Command: cmd, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); sup.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		sup.Stop(context.Background())
	}()
	st, err := sup.Client().Apply(ctx, shopProd(1, upstream(t, "a")))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return sup.Health().StandbyPID != 0 })
	standby := sup.Health().StandbyPID

	const workers = 8
	var ok, failed, resets atomic.Int64
	var lastErr atomic.Value
	loadCtx, stopLoad := context.WithCancel(ctx)
	var load sync.WaitGroup
	for range workers {
		load.Add(1)
		go func() {
			defer load.Done()
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			tick := time.NewTicker(time.Second * workers / time.Duration(rate))
			defer tick.Stop()
			for {
				select {
				case <-loadCtx.Done():
					return
				case <-tick.C:
				}
				resp, err := c.Post("http://"+st.Addr+"/", "text/plain", strings.NewReader("x"))
				if err != nil {
					failed.Add(1)
					if errors.Is(err, syscall.ECONNRESET) {
						resets.Add(1)
					}
					lastErr.Store(err.Error())
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				ok.Add(1)
			}
		}()
	}
	for i := 1; i <= upgrades; i++ {
		before := ok.Load()
		waitFor(t, func() bool { return ok.Load() > before+int64(rate)/4 })
		old := sup.Health().Boot
		started := time.Now()
		b, _, err := Start(ctx, cmd, dir, StartOptions{Takeover: true})
		if err != nil {
			t.Fatalf("upgrade %d: %v", i, err)
		}
		took := time.Since(started)
		waitFor(t, func() bool { return !Alive(old.PID) || zombie(old.PID) })
		t.Logf("upgrade %d: pid %d handed over to pid %d in %v (old one gone %v after the start); %d requests so far, %d failed",
			i, old.PID, b.PID, took.Round(time.Millisecond), time.Since(started).Round(time.Millisecond), ok.Load()+failed.Load(), failed.Load())
	}
	before := ok.Load()
	waitFor(t, func() bool { return ok.Load() > before+int64(rate)/4 })
	stopLoad()
	load.Wait()
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of %d requests failed across %d upgrades (%d reset; last: %v), want none", n, n+ok.Load(), upgrades, resets.Load(), lastErr.Load())
	}
	h := sup.Health()
	if h.Restarts != 0 || h.LastCrash != nil {
		t.Errorf("after the upgrades the supervisor saw %d crash(es) (%v), want none", h.Restarts, h.LastCrash)
	}
	if h.StandbyPID != standby || !Alive(standby) {
		t.Errorf("standby pid %d (alive %v) after the upgrades, want pid %d still standing by", h.StandbyPID, Alive(standby), standby)
	}
	t.Logf("upgrades: %d at %d requests/s: %d requests, %d failed, %d reset; load average %s", upgrades, rate, ok.Load()+failed.Load(), failed.Load(), resets.Load(), loadAvg())
}

func envNum(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
