package dataplane

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gantry-dev/gantry/internal/loopback"
	"github.com/gantry-dev/gantry/metrics/activeusers"
)

// sendUsers sends one request from each loopback address from..to-1.
func sendUsers(t *testing.T, addr string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		c := loopback.Client(loopback.Addr(i))
		resp, err := c.Get("http://" + addr + "/")
		if err != nil {
			t.Fatalf("client %v: %v", loopback.Addr(i), err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		c.CloseIdleConnections()
	}
}

// checkUsers fails t unless shop/prod revision 1's users read from client
// are want, within 3 standard errors.
func checkUsers(ctx context.Context, t *testing.T, client *Client, want int, what string) {
	t.Helper()
	c, err := client.Counters(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	got := 0.0
	for _, ec := range c.Environments {
		for _, u := range ec.Users {
			if ec.App == "shop" && ec.Env == "prod" && u.Revision == 1 {
				got = u.Users.Estimate()
			}
		}
	}
	if bound := math.Max(1, 3*activeusers.StdError*float64(want)); math.Abs(got-float64(want)) > bound {
		t.Errorf("%s: %.1f active users; want %d ± %.0f", what, got, want, bound)
	}
}

// TestRun_usersCarried: the users a data plane served stay counted by the
// process after it, with nothing reading the counters in between: across
// a takeover (`gantry proxy upgrade`, here a second Run in the same
// process) in the handoff, and across a graceful stop (SIGTERM, here
// ctx's end) in UsersFile, for the next process started in the directory.
func TestRun_usersCarried(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client, old, first := startRun(ctx, t, dir)
	up := upstream(t, "a")
	st, err := client.Apply(ctx, shopProd(1, up))
	if err != nil {
		t.Fatal(err)
	}
	sendUsers(t, st.Addr, 0, 30)

	sctx, stop := context.WithCancel(ctx)
	second := make(chan error, 1)
	go func() { second <- Run(sctx, RunOptions{DataDir: dir, Takeover: true, Logf: t.Logf}) }()
	if err := <-first; err != nil {
		t.Fatalf("the first data plane after the handover: %v", err)
	}
	checkUsers(ctx, t, client, 30, "after the takeover")
	sendUsers(t, st.Addr, 20, 40) // 10 again, 10 new
	stop()
	if err := <-second; err != nil {
		t.Fatalf("the second data plane: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, UsersFile)); err != nil {
		t.Fatalf("after a graceful stop: %v", err)
	}

	third := make(chan error, 1)
	go func() { third <- Run(ctx, RunOptions{DataDir: dir, Logf: t.Logf}) }()
	waitFor(t, func() bool { s, err := client.State(ctx); return err == nil && s.Boot.ID != old.Boot.ID })
	if _, err := client.Apply(ctx, shopProd(1, up)); err != nil {
		t.Fatal(err)
	}
	checkUsers(ctx, t, client, 40, "in the process started after the graceful stop")
	if _, err := os.Stat(filepath.Join(dir, UsersFile)); !os.IsNotExist(err) {
		t.Errorf("%s after the next process read it: %v; want it removed", UsersFile, err)
	}
	cancel()
	if err := <-third; err != nil {
		t.Errorf("the third data plane: %v", err)
	}
}
