package dataplane

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestSupervisor_Standby runs the data plane and its warm standby as real
// processes under load: kill -9 of the data plane (twice) is taken over by
// the standby, a connection made right after the kill is answered, only
// requests in flight fail, the crash says a standby took over, and a new
// standby is started each time. A data plane stopped on purpose is not
// taken over.
func TestSupervisor_Standby(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var pids []int // every process seen, killed at the end
	seen := func(pid int) {
		mu.Lock()
		defer mu.Unlock()
		pids = append(pids, pid)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	sup, err := Supervise(ctx, SupervisorOptions{DataDir: dir, Command: proxyCommand(t), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	seen(sup.Health().Boot.PID)
	done := make(chan struct{})
	go func() { defer close(done); sup.Run(ctx) }()
	defer func() { cancel(); <-done }()
	st, err := sup.Client().Apply(ctx, shopProd(1, upstream(t, "a")))
	if err != nil {
		t.Fatal(err)
	}

	const workers = 4
	var ok, failed atomic.Int64
	loadCtx, stopLoad := context.WithCancel(ctx)
	var load sync.WaitGroup
	for range workers {
		load.Add(1)
		go func() {
			defer load.Done()
			c := &http.Client{Timeout: 10 * time.Second}
			for loadCtx.Err() == nil {
				resp, err := c.Get("http://" + st.Addr + "/")
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				ok.Add(1)
			}
		}()
	}
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	for kill := 1; kill <= 2; kill++ {
		var standby int
		waitFor(t, func() bool { standby = sup.Health().StandbyPID; return standby != 0 })
		seen(standby)
		before := ok.Load()
		waitFor(t, func() bool { return ok.Load() > before+20 })
		active := sup.Health().Boot
		if err := syscall.Kill(active.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		resp, err := fresh.Get("http://" + st.Addr + "/")
		if err != nil {
			t.Fatalf("kill %d: a new connection right after the kill: %v", kill, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "a" {
			t.Errorf("kill %d: a new connection after the kill got %q, want a", kill, b)
		}
		var h Health
		waitFor(t, func() bool {
			h = sup.Health()
			return h.Restarts == kill && h.LastCrash != nil && h.LastCrash.PID == active.PID
		})
		c := h.LastCrash
		if !c.Standby || c.NewPID != standby || h.Boot.PID != standby || c.Held != 1 || c.Boot != active.ID {
			t.Errorf("kill %d: crash %+v, data plane pid %d; want standby pid %d to have taken over pid %d's one listener", kill, *c, h.Boot.PID, standby, active.PID)
		}
		if c.Downtime() < 0 || c.ServingAt.Before(c.DetectedAt) {
			t.Errorf("kill %d: downtime %v (seen %v, serving %v)", kill, c.Downtime(), c.DetectedAt, c.ServingAt)
		}
		t.Logf("kill %d: %s", kill, c)
	}
	stopLoad()
	load.Wait()
	if n := failed.Load(); n > 2*workers {
		t.Errorf("%d of %d requests failed across 2 kills, want at most the %d in flight", n, n+ok.Load(), 2*workers)
	}

	t.Run("a data plane stopped on purpose is not taken over", func(t *testing.T) {
		var standby int
		waitFor(t, func() bool { standby = sup.Health().StandbyPID; return standby != 0 })
		seen(standby)
		cancel() // the supervisor stops watching, as when the server stops
		<-done
		active := sup.Health().Boot.PID
		if err := syscall.Kill(active, syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return !Alive(active) })
		// It saw the last frame: it holds no socket, so it has nothing to
		// take over, and it still stands by.
		client := NewClient(filepath.Join(dir, StandbyFile))
		var l Liveness
		waitFor(t, func() bool {
			l, err = client.Check(context.Background())
			return err != nil || l.Standby == nil || l.Standby.Listeners == 0
		})
		if err != nil || l.Standby == nil || l.Boot.PID != standby {
			t.Errorf("after the data plane stopped: the standby answers %+v, %v; want pid %d still standing by", l, err, standby)
		}
		if _, err := NewClient(filepath.Join(dir, SocketFile)).Check(context.Background()); err == nil {
			t.Error("a data plane answers the control socket after the only one stopped on purpose")
		}
		stopPID(context.Background(), standby)
	})
}
