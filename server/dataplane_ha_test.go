package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/dataplane"
	"github.com/gantry-dev/gantry/internal/pgtest"
	"github.com/gantry-dev/gantry/leader"
	"github.com/gantry-dev/gantry/loadgen"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router"
)

// pausedCanary is a canary that stops at 20% until promoted: across a
// takeover its routing table must not change at all.
const pausedCanary = "    type: Canary\n    canary:\n      steps:\n        - setWeight: 20\n        - pause: {}"

// tableSample is web/prod's routing table as the data plane held it at
// one moment.
type tableSample struct {
	at      time.Time
	version uint64
	routes  string
}

// tableWatch polls the data plane's table of web/prod until stopped.
type tableWatch struct {
	mu      sync.Mutex
	samples []tableSample
	stop    context.CancelFunc
	done    chan struct{}
}

// watchTable samples the table of web/prod held by the data plane of
// data every 10 ms, keeping each change (of version or routes).
func watchTable(ctx context.Context, data string) *tableWatch {
	ctx, cancel := context.WithCancel(ctx)
	w := &tableWatch{stop: cancel, done: make(chan struct{})}
	dp := dataplane.NewClient(filepath.Join(data, dataplane.SocketFile))
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			if st, err := dp.State(ctx); err == nil {
				for _, e := range st.Environments {
					if e.App == "web" && e.Name == "prod" {
						w.add(tableSample{at: time.Now(), version: e.Status.Version, routes: routesKey(e.Routes)})
					}
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return w
}

func (w *tableWatch) add(s tableSample) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.samples); n > 0 && w.samples[n-1].version == s.version && w.samples[n-1].routes == s.routes {
		return
	}
	w.samples = append(w.samples, s)
}

// since returns the samples from the last one taken at or before t on.
func (w *tableWatch) since(t time.Time) []tableSample {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := sort.Search(len(w.samples), func(i int) bool { return w.samples[i].at.After(t) })
	return append([]tableSample(nil), w.samples[max(i-1, 0):]...)
}

// backwards lists the samples whose version is lower than the one before.
func (w *tableWatch) backwards() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for i := 1; i < len(w.samples); i++ {
		if w.samples[i].version < w.samples[i-1].version {
			out = append(out, fmt.Sprintf("version %d after %d", w.samples[i].version, w.samples[i-1].version))
		}
	}
	return out
}

// routesKey renders routes (weights and endpoints) for comparison.
func routesKey(routes []router.Route) string {
	var parts []string
	for _, r := range routes {
		var eps []string
		for _, e := range r.Endpoints {
			eps = append(eps, e.Addr)
		}
		sort.Strings(eps)
		parts = append(parts, fmt.Sprintf("%d%s:%s weight %d %v", r.Revision, r.Group, r.Version, r.Weight, eps))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// TestDataPlane_HATakeoverUnderLoad runs two servers on one PostgreSQL
// database and one data directory, and kills the leader with SIGKILL in
// the middle of a canary (paused at 20%) under load,
// GANTRY_HA_TAKEOVERS times (default 1; each killed server comes back as
// the follower) at GANTRY_HA_RATE requests/s (default 300;
// bench/ha-takeover.sh runs 10 at 1,000/s). Each time the follower takes
// the lead and adopts the data plane the leader programmed: no request
// fails, the routing table neither goes back to an older version nor
// changes its weights or endpoints until the rollout is promoted, the
// proxy's per-revision counts and the analysis' evidence are at least
// what they were, and the promoted rollout ends Succeeded.
func TestDataPlane_HATakeoverUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes and PostgreSQL under load")
	}
	takeovers := envInt(t, "GANTRY_HA_TAKEOVERS", 1)
	rate := envInt(t, "GANTRY_HA_RATE", 300)
	db := pgtest.Start(t).CreateDB(t, "gantry")
	killInstancesAtEnd(t)
	data, addr := t.TempDir(), freeAddr(t)
	stopDataPlaneAtEnd(t, data)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(2*takeovers+3)*time.Minute)
	defer cancel()
	lead := startServerProc(t, data, freeAddr(t), "--database", db)
	waitRole(ctx, t, lead.url, leader.Leader)
	follow := startServerProc(t, data, freeAddr(t), "--database", db)
	waitRole(ctx, t, follow.url, leader.Follower)
	c, err := client.New(client.Options{Server: lead.url, Token: lead.token})
	if err != nil {
		t.Fatal(err)
	}
	applyRollingV1(ctx, t, c, addr)
	if _, err := c.Apply(ctx, "web.yaml", []byte(strategyApp("web", pausedCanary, addr))); err != nil {
		t.Fatal(err)
	}
	firstBoot := dataPlaneBoot(t, data)
	tables := watchTable(ctx, data)
	defer func() { tables.stop(); <-tables.done }()
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	began := time.Now()
	l := loadgen.Start(loadCtx, loadgen.Options{URL: "http://" + addr + "/", Rate: rate, Workers: 32})
	var gaps []time.Duration
	for k := range takeovers {
		r, err := c.Deploy(ctx, "web", "prod", fmt.Sprintf("v%d", k+2))
		if err != nil {
			t.Fatal(err)
		}
		for r.Phase != rollout.Paused {
			if r.Phase.Final() {
				t.Fatalf("rollout %d ended before its pause: %s %s %s", r.ID, r.Phase, r.Reason, r.Message)
			}
			time.Sleep(100 * time.Millisecond)
			if r, err = c.Rollout(ctx, r.ID); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Duration(500+rand.IntN(1500)) * time.Millisecond) // the analysis gathers evidence
		before, err := readEvidence(ctx, c, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		killedAt := time.Now()
		lead.cmd.Process.Signal(syscall.SIGKILL)
		lead.cmd.Wait()
		waitRole(ctx, t, follow.url, leader.Leader)
		gap := time.Since(killedAt)
		gaps = append(gaps, gap)
		lead, follow = follow, startServerProc(t, data, freeAddr(t), "--database", db)
		if c, err = client.New(client.Options{Server: lead.url, Token: lead.token}); err != nil {
			t.Fatal(err)
		}
		after, err := evidenceAfterRestart(ctx, t, c, r.ID, before, killedAt)
		if err != nil {
			t.Fatalf("takeover %d: %v", k+1, err)
		}
		for _, s := range shrunk(before, after) {
			t.Errorf("takeover %d: after it %s", k+1, s)
		}
		// The new leader has observed the analysis: it reads the data
		// plane. Nothing in the table may have moved.
		seen := tables.since(killedAt.Add(-50 * time.Millisecond))
		for _, s := range seen[1:] {
			t.Errorf("takeover %d: the table changed %s after the kill: version %d → %d, routes %s → %s",
				k+1, s.at.Sub(killedAt).Round(time.Millisecond), seen[0].version, s.version, seen[0].routes, s.routes)
		}
		waitRole(ctx, t, follow.url, leader.Follower)
		t.Logf("takeover %d: new leader after %s, table version %d unchanged (%s), %d counts compared",
			k+1, gap.Round(time.Millisecond), seen[0].version, seen[0].routes, len(before.requests)+len(before.analysis))
		if _, err := c.Command(ctx, "web", "prod", "promote", api.CommandBody{Full: true}); err != nil {
			t.Fatalf("promote after takeover %d: %v", k+1, err)
		}
		if r, err = c.WaitRollout(ctx, r.ID, 100*time.Millisecond, nil); err != nil || r.Phase != rollout.Succeeded {
			t.Errorf("rollout %d after takeover %d: %v %s %s %s", r.ID, k+1, err, r.Phase, r.Reason, r.Message)
		}
	}
	stopLoad()
	l.Wait()
	took := time.Since(began)
	if l.Failed() != 0 || l.Total() == 0 {
		t.Errorf("takeovers under load: %d of %d requests failed (last: %s), want none", l.Failed(), l.Total(), l.LastError())
	}
	if got := proxyTotal(ctx, t, c, "web"); got != l.Total() {
		t.Errorf("the proxy counted %d requests, the load sent %d: counters reset or requests lost", got, l.Total())
	}
	for _, b := range tables.backwards() {
		t.Errorf("the routing table went back: %s", b)
	}
	if b := dataPlaneBoot(t, data); b != firstBoot {
		t.Errorf("the data plane restarted (boot %s, then %s) though only servers were killed", firstBoot, b)
	}
	sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
	t.Logf("table: takeovers %d; requests %d in %s (%.0f/s); failed %d; table versions seen %d, none backwards; new leader after median %s (max %s)",
		takeovers, l.Total(), took.Round(time.Second), float64(l.Total())/took.Seconds(), l.Failed(), len(tables.since(began)),
		gaps[len(gaps)/2].Round(time.Millisecond), gaps[len(gaps)-1].Round(time.Millisecond))
	t.Logf("by version: %s", versionCounts(l.ByVersion()))
}
