package dataplane

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/router"
)

// upstream serves body on a loopback port until the test ends.
func upstream(t *testing.T, body string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, body) })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func shopProd(version uint64, addr string) Environment {
	return Environment{App: "shop", Name: "prod", Version: version, Routes: []router.Route{
		{Revision: 1, Version: "v1", Weight: 1, Endpoints: []router.Endpoint{{ID: "a", Addr: addr}}}}}
}

func get(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatalf("GET %s: %v", addr, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestPlane_Apply(t *testing.T) {
	p := New(Options{Logf: t.Logf})
	t.Cleanup(func() { p.Close(context.Background()) })
	ctx := context.Background()
	a, b := upstream(t, "a"), upstream(t, "b")
	st, err := p.Apply(ctx, shopProd(2, a))
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, st.Addr); got != "a" {
		t.Fatalf("served %q, want a", got)
	}
	t.Run("the same version again is a no-op", func(t *testing.T) {
		again, err := p.Apply(ctx, shopProd(2, a))
		if err != nil || again != st {
			t.Errorf("Apply(same) = %+v, %v; want %+v, nil", again, err, st)
		}
	})
	t.Run("an older version is refused", func(t *testing.T) {
		if _, err := p.Apply(ctx, shopProd(1, b)); !errors.Is(err, ErrStale) {
			t.Errorf("Apply(older) = %v, want ErrStale", err)
		}
		if got := get(t, st.Addr); got != "a" {
			t.Errorf("after a refused older state: served %q, want a", got)
		}
	})
	t.Run("the same version with other content is refused", func(t *testing.T) {
		if _, err := p.Apply(ctx, shopProd(2, b)); !errors.Is(err, ErrStale) {
			t.Errorf("Apply(same version, other routes) = %v, want ErrStale", err)
		}
	})
	t.Run("a newer version swaps the table on the same listener", func(t *testing.T) {
		next, err := p.Apply(ctx, shopProd(3, b))
		if err != nil || next.Addr != st.Addr || next.Epoch != st.Epoch {
			t.Fatalf("Apply(newer) = %+v, %v; want the listener %s kept", next, err, st.Addr)
		}
		if got := get(t, st.Addr); got != "b" {
			t.Errorf("served %q, want b", got)
		}
	})
	t.Run("counters carry the boot and the epoch", func(t *testing.T) {
		c, _ := p.Counters(ctx, "shop", "prod")
		if len(c.Environments) != 1 || c.Origin(c.Environments[0]) != p.Boot().ID+"/1" {
			t.Fatalf("counters %+v: want one environment of origin %s/1", c, p.Boot().ID)
		}
		var n uint64
		for _, r := range c.Environments[0].Revisions {
			n += r.Requests
		}
		if n < 2 {
			t.Errorf("counted %d requests, want at least the 2 sent", n)
		}
	})
}

// TestRun_Takeover: a second process (here a second Run in the same
// process) takes the listeners over under load; no request fails, and the
// first returns once its requests in flight are done.
func TestRun_Takeover(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client, old, first := startRun(ctx, t, dir)
	st, err := client.Apply(ctx, shopProd(1, upstream(t, "a")))
	if err != nil {
		t.Fatal(err)
	}

	var ok, failed atomic.Int64
	loadCtx, stopLoad := context.WithCancel(ctx)
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		for loadCtx.Err() == nil {
			resp, err := http.Get("http://" + st.Addr + "/")
			if err != nil {
				failed.Add(1)
				t.Logf("request failed: %v", err)
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ok.Add(1)
		}
	}()
	waitFor(t, func() bool { return ok.Load() > 50 })

	second := make(chan error, 1)
	go func() { second <- Run(ctx, RunOptions{DataDir: dir, Takeover: true, Logf: t.Logf}) }()
	select {
	case err := <-first:
		if err != nil {
			t.Errorf("the first data plane after the handover: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the first data plane did not return after the handover")
	}
	var now State
	waitFor(t, func() bool { now, err = client.State(ctx); return err == nil && now.Boot.ID != old.Boot.ID })
	if len(now.Environments) != 1 || now.Environments[0].Status.Addr != st.Addr || now.Environments[0].Version != 1 {
		t.Errorf("after the handover: %+v; want shop/prod version 1 on %s", now.Environments, st.Addr)
	}
	before := ok.Load()
	waitFor(t, func() bool { return ok.Load() > before+50 })
	stopLoad()
	<-loadDone
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests failed across the handover, want none", failed.Load(), failed.Load()+ok.Load())
	}
	cancel()
	if err := <-second; err != nil {
		t.Errorf("the second data plane: %v", err)
	}
}

// startRun runs a data plane (Run) in dir until ctx ends, and returns its
// client once it answers, its state then, and Run's result.
func startRun(ctx context.Context, t *testing.T, dir string) (*Client, State, <-chan error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, RunOptions{DataDir: dir, Logf: t.Logf}) }()
	client := NewClient(filepath.Join(dir, SocketFile))
	var st State
	waitFor(t, func() bool { var err error; st, err = client.State(ctx); return err == nil })
	return client, st, done
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
