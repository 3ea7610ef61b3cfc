// Command store measures gantry's state stores under the writes the
// rollout engine makes at every step of a rollout: one UpdateRollout
// (a compare-and-swap on the rollout's generation) and one AppendEvent.
//
// It applies -apps apps, creates a revision and a rollout for each, then
// runs one goroutine per app that drives its rollout through -transitions
// transitions, all at once, and prints the latency of one transition (both
// writes) at p50/p99/max and the throughput. It does so twice per store:
//
//   - paced: each rollout makes a transition every -every (1s: an instance
//     started and became ready, which takes at least that long), starting
//     at a random moment within the first -every; the latency a rollout
//     sees when 1,000 of them run at once;
//   - burst: each rollout makes its transitions back to back, as fast as
//     the store takes them; the store's throughput when saturated (its
//     latency is then queueing: 1,000 writers wait for each other).
//
// Stores: SQLite (as the server runs
// it: WAL, synchronous=NORMAL, in a temporary directory) and PostgreSQL (a
// throwaway cluster started with initdb, as the tests do: fsync off, so
// the figures are gantry's, pgx's and PostgreSQL's cost, not the disk's).
//
//	go run ./bench/store [-apps 1000] [-transitions 10] [-every 1s] [-stores sqlite,postgres]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/internal/pgtest"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
	"github.com/gantry-dev/gantry/store/postgres"
	"github.com/gantry-dev/gantry/store/sqlite"
)

// store is a rollout.Store that can be closed.
type store interface {
	rollout.Store
	Close() error
}

func main() {
	apps := flag.Int("apps", 1000, "apps rolling out at once, one goroutine each")
	transitions := flag.Int("transitions", 10, "transitions per rollout (each: UpdateRollout + AppendEvent)")
	every := flag.Duration("every", time.Second, "pace of each rollout's transitions in the paced run")
	stores := flag.String("stores", "sqlite,postgres", "stores to measure, comma-separated")
	flag.Parse()
	ctx := context.Background()
	fmt.Printf("gantry store benchmark: %d apps rolling out at once, %d transitions each (UpdateRollout + AppendEvent); %d CPUs\n\n",
		*apps, *transitions, runtime.NumCPU())
	fmt.Printf("%-10s %-6s %9s %9s %9s %9s %14s %10s\n", "store", "run", "p50", "p90", "p99", "max", "transitions/s", "writes/s")
	failed := false
	for _, name := range strings.Split(*stores, ",") {
		st, cleanup, err := open(ctx, strings.TrimSpace(name))
		if errors.Is(err, pgtest.ErrUnavailable) {
			fmt.Printf("%-10s skipped: %v\n", name, err)
			continue
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			failed = true
			continue
		}
		for _, pace := range []time.Duration{*every, 0} {
			res, err := run(ctx, st, *apps, *transitions, pace)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
				failed = true
				break
			}
			res.print(name, pace)
		}
		cleanup()
	}
	if failed {
		os.Exit(1)
	}
}

// open opens an empty store of the named kind and returns how to dispose of it.
func open(ctx context.Context, name string) (store, func(), error) {
	switch name {
	case "sqlite":
		dir, err := os.MkdirTemp("", "gantry-bench-store-")
		if err != nil {
			return nil, nil, err
		}
		st, err := sqlite.Open(ctx, filepath.Join(dir, "gantry.db"))
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		return st, func() { st.Close(); os.RemoveAll(dir) }, nil
	case "postgres":
		c, err := pgtest.Launch()
		if err != nil {
			return nil, nil, err
		}
		url, err := c.CreateDatabase(ctx, "bench")
		if err != nil {
			c.Stop()
			return nil, nil, err
		}
		st, err := postgres.Open(ctx, url)
		if err != nil {
			c.Stop()
			return nil, nil, err
		}
		return st, func() { st.Close(); c.Stop() }, nil
	}
	return nil, nil, fmt.Errorf("unknown store %q: use sqlite or postgres", name)
}

// result holds every transition's latency and the wall time of the run.
type result struct {
	latencies []time.Duration
	wall      time.Duration
}

func (r result) print(name string, pace time.Duration) {
	run := "burst"
	if pace > 0 {
		run = "paced"
	}
	slices.Sort(r.latencies)
	q := func(p float64) string {
		i := int(p * float64(len(r.latencies)-1))
		return fmtDur(r.latencies[i])
	}
	n := float64(len(r.latencies))
	fmt.Printf("%-10s %-6s %9s %9s %9s %9s %14.0f %10.0f\n", name, run, q(0.50), q(0.90), q(0.99), q(1),
		n/r.wall.Seconds(), 2*n/r.wall.Seconds())
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

// phases a rollout goes through in the benchmark: Progressing steps, then Succeeded.
func phaseAt(i, n int) rollout.Phase {
	if i == n-1 {
		return rollout.Succeeded
	}
	return rollout.Progressing
}

// run prepares apps rollouts, then drives them all at once, each making a
// transition every pace (0: back to back).
func run(ctx context.Context, st store, apps, transitions int, pace time.Duration) (result, error) {
	rs := make([]rollout.Rollout, apps)
	prefix := "burst"
	if pace > 0 {
		prefix = "paced"
	}
	for i := range rs {
		name := fmt.Sprintf("%s-%04d", prefix, i)
		app := appSpec(name)
		if err := st.PutApp(ctx, rollout.AppRecord{Name: name, Spec: app, UpdatedAt: time.Now()}); err != nil {
			return result{}, fmt.Errorf("put app: %w", err)
		}
		resolved, err := app.Resolve("production")
		if err != nil {
			return result{}, fmt.Errorf("resolve: %w", err)
		}
		rev, err := st.CreateRevision(ctx, rollout.Revision{App: name, Env: "production", Version: "v2", Spec: resolved, CreatedAt: time.Now()})
		if err != nil {
			return result{}, fmt.Errorf("create revision: %w", err)
		}
		now := time.Now()
		if rs[i], err = st.CreateRollout(ctx, rollout.Rollout{
			App: name, Env: "production", Strategy: spec.RollingUpdate, ToRevision: rev.Number,
			Phase: rollout.Pending, CreatedAt: now, UpdatedAt: now, LastProgressAt: now, StepStartedAt: now,
		}); err != nil {
			return result{}, fmt.Errorf("create rollout: %w", err)
		}
	}

	lat := make([][]time.Duration, apps)
	errs := make([]error, apps)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			lat[i], errs[i] = drive(ctx, st, rs[i], transitions, pace)
		}()
	}
	t0 := time.Now()
	start.Done()
	wg.Wait()
	res := result{wall: time.Since(t0)}
	for i := range lat {
		if errs[i] != nil {
			return result{}, errs[i]
		}
		res.latencies = append(res.latencies, lat[i]...)
	}
	return res, nil
}

// drive makes one rollout's transitions as the engine does: the rollout
// first, then its event; one every pace, from a random offset within it.
func drive(ctx context.Context, st store, r rollout.Rollout, transitions int, pace time.Duration) ([]time.Duration, error) {
	out := make([]time.Duration, 0, transitions)
	var tick <-chan time.Time
	if pace > 0 {
		time.Sleep(rand.N(pace))
		t := time.NewTicker(pace)
		defer t.Stop()
		tick = t.C
	}
	for i := range transitions {
		if tick != nil && i > 0 {
			<-tick
		}
		from := r.Phase
		t0 := time.Now()
		r.Phase, r.Step, r.UpdatedAt, r.LastProgressAt = phaseAt(i, transitions), i, t0, t0
		r.Reason, r.Message = "StepCompleted", fmt.Sprintf("step %d: %d of 10 instances updated", i, i+1)
		if r.Phase.Final() {
			r.FinishedAt = t0
		}
		var err error
		if r, err = st.UpdateRollout(ctx, r); err != nil {
			return nil, fmt.Errorf("update rollout %d: %w", r.ID, err)
		}
		if _, err := st.AppendEvent(ctx, rollout.Event{
			Time: t0, App: r.App, Env: r.Env, RolloutID: r.ID, Type: rollout.Normal, Reason: r.Reason,
			Message: fmt.Sprintf("%s -> %s: %s", from, r.Phase, r.Message), Actor: "gantry",
		}); err != nil {
			return nil, fmt.Errorf("append event: %w", err)
		}
		out = append(out, time.Since(t0))
	}
	return out, nil
}

func appSpec(name string) spec.App {
	replicas, deadline := 10, 600
	return spec.App{
		APIVersion: spec.APIVersion,
		Kind:       spec.KindApp,
		Metadata:   spec.Metadata{Name: name},
		Spec: spec.AppSpec{
			Replicas:                &replicas,
			Workload:                spec.Workload{Command: "./bin/" + name, Args: []string{"--listen", "127.0.0.1:{{.Port}}", "--version", "{{.Version}}"}},
			ReadinessProbe:          &spec.Probe{HTTPGet: &spec.HTTPGetAction{Path: "/ready"}},
			ProgressDeadlineSeconds: &deadline,
		},
		Environments: []spec.Environment{{Name: "production", Proxy: spec.ProxyConfig{Listen: "127.0.0.1:0"}}},
	}
}
