// Command engine measures how quickly gantry's API answers while the
// rollout engine is busy: -apps apps roll out at once on SQLite while one
// client issues status, pause and resume calls over HTTP, and it prints
// the latency of those calls at p50/p99/max, and how long one reconcile of
// every environment took.
//
// The parts are real but for the instances: the SQLite store as the
// server opens it, the engine, the API handler behind a TCP listener on
// 127.0.0.1, a bearer token checked on every call. Instances are kept in
// memory (1,000 apps of three processes each do not fit on a laptop): an
// instance becomes ready -ready after it is started, so a rolling update
// of three replicas takes a few reconciles per instance.
//
//	go run ./bench/engine [-apps 1000] [-duration 20s] [-ready 2s]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
	"github.com/gantry-dev/gantry/store/sqlite"
	"github.com/gantry-dev/gantry/strategy"
)

func main() {
	apps := flag.Int("apps", 1000, "apps rolling out at once")
	duration := flag.Duration("duration", 20*time.Second, "how long the client issues calls")
	ready := flag.Duration("ready", 2*time.Second, "how long an instance takes to become ready")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the measured part to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/engine:", err)
			os.Exit(1)
		}
		defer f.Close()
		profile = f
	}
	if err := run(*apps, *duration, *ready); err != nil {
		fmt.Fprintln(os.Stderr, "bench/engine:", err)
		os.Exit(1)
	}
}

// profile receives the CPU profile of the measured part; nil: none.
var profile *os.File

func run(apps int, duration, ready time.Duration) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "gantry-bench-engine-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "gantry.db"))
	if err != nil {
		return err
	}
	defer st.Close()

	backend := &memBackend{ready: ready, insts: map[string][]rollout.Instance{}}
	var reconciles reconcileTimer
	engine, err := rollout.New(rollout.Options{
		Store: st, Backend: backend, Router: nopRouter{},
		Strategies: strategy.All(),
		Logf:       func(string, ...any) {},
	})
	if err != nil {
		return err
	}
	secret, _, err := auth.Issue(ctx, st, auth.IssueRequest{Name: "bench", Grants: auth.Grants(auth.Admin, "*")})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api.NewHandler(api.Options{
		Store: st, Engine: engine, Tokens: st, Instances: backend.Instances, Version: "bench",
	})}
	go srv.Serve(ln)
	defer srv.Close()

	fmt.Printf("gantry engine benchmark: %d apps rolling out at once on SQLite; instances ready after %s; %d CPUs\n",
		apps, ready, runtime.NumCPU())
	names := make([]string, apps)
	for i := range names {
		names[i] = fmt.Sprintf("app-%04d", i)
		app := appSpec(names[i])
		if err := st.PutApp(ctx, rollout.AppRecord{Name: names[i], Spec: app, UpdatedAt: time.Now()}); err != nil {
			return fmt.Errorf("put app: %w", err)
		}
	}
	// The first version of every app, rolled out before the measurement.
	deployAll := func(version string) error {
		for _, n := range names {
			if _, err := engine.Deploy(ctx, rollout.DeployRequest{App: n, Env: "production", Version: version, Actor: "bench"}); err != nil {
				return fmt.Errorf("deploy %s %s: %w", n, version, err)
			}
		}
		return nil
	}
	if err := deployAll("v1"); err != nil {
		return err
	}
	for active := apps; active > 0; {
		t0 := time.Now()
		if err := engine.Reconcile(ctx); err != nil {
			return err
		}
		reconciles.add(time.Since(t0))
		if active, err = countActive(ctx, st); err != nil {
			return err
		}
	}
	fmt.Printf("first version up; one reconcile of %d environments took %s (median)\n", apps, fmtDur(reconciles.median()))

	// Every app rolls out v2 at once; the engine runs as the server runs it.
	if err := deployAll("v2"); err != nil {
		return err
	}
	if profile != nil {
		if err := pprof.StartCPUProfile(profile); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	c := client{base: "http://" + ln.Addr().String(), token: secret, http: &http.Client{}}
	// The floor: status calls while the engine is idle, on this machine now.
	var idle []time.Duration
	for t0 := time.Now(); time.Since(t0) < 3*time.Second; time.Sleep(10 * time.Millisecond) {
		d, _, err := c.do(ctx, http.MethodGet, "/api/v1/apps/"+names[rand.N(len(names))]+"/environments/production/status")
		if err != nil {
			return err
		}
		idle = append(idle, d)
	}
	engineDone := make(chan struct{})
	go func() { defer close(engineDone); _ = engine.Run(ctx) }()
	lat := map[string][]time.Duration{}
	codes := map[string]map[int]int{}
	deadline := time.Now().Add(duration)
	for time.Now().Before(deadline) {
		name := names[rand.N(len(names))]
		env := "/api/v1/apps/" + name + "/environments/production"
		for _, call := range []struct{ kind, method, path string }{
			{"status", http.MethodGet, env + "/status"},
			{"pause", http.MethodPost, env + "/pause"},
			{"status", http.MethodGet, env + "/status"},
			{"resume", http.MethodPost, env + "/resume"},
		} {
			d, code, err := c.do(ctx, call.method, call.path)
			if err != nil {
				return err
			}
			lat[call.kind] = append(lat[call.kind], d)
			if codes[call.kind] == nil {
				codes[call.kind] = map[int]int{}
			}
			codes[call.kind][code]++
		}
		time.Sleep(10 * time.Millisecond)
	}
	active, err := countActive(ctx, st)
	if err != nil {
		return err
	}
	ph, err := phases(ctx, st)
	if err != nil {
		return err
	}
	cancel()
	<-engineDone
	fmt.Printf("%d of %d rollouts still active after %s of calls: %v\n\n", active, apps, duration, ph)
	fmt.Printf("%-8s %7s %9s %9s %9s  %s\n", "call", "n", "p50", "p99", "max", "HTTP status: count")
	var all []time.Duration
	for _, kind := range []string{"status", "pause", "resume"} {
		all = append(all, lat[kind]...)
		printRow(kind, lat[kind], fmt.Sprint(codes[kind]))
	}
	printRow("all", all, "")
	printRow("idle", idle, "status with the engine idle: this machine's floor")
	return nil
}

func printRow(kind string, ds []time.Duration, extra string) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	q := func(p float64) string { return fmtDur(ds[int(p*float64(len(ds)-1))]) }
	fmt.Printf("%-8s %7d %9s %9s %9s  %s\n", kind, len(ds), q(0.50), q(0.99), q(1), extra)
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

// phases counts the latest rollout of every app by phase.
func phases(ctx context.Context, st rollout.Store) (map[string]int, error) {
	rs, err := st.ListRollouts(ctx, rollout.RolloutFilter{})
	if err != nil {
		return nil, err
	}
	latest := map[string]rollout.Rollout{}
	for _, r := range rs {
		if l, ok := latest[r.App]; !ok || r.ID > l.ID {
			latest[r.App] = r
		}
	}
	out := map[string]int{}
	for _, r := range latest {
		out[r.Phase.String()]++
	}
	return out, nil
}

func countActive(ctx context.Context, st rollout.Store) (int, error) {
	rs, err := st.ListRollouts(ctx, rollout.RolloutFilter{})
	if err != nil {
		return 0, err
	}
	latest := map[string]rollout.Rollout{}
	for _, r := range rs {
		if l, ok := latest[r.App]; !ok || r.ID > l.ID {
			latest[r.App] = r
		}
	}
	n := 0
	for _, r := range latest {
		if !r.Phase.Final() {
			n++
		}
	}
	return n, nil
}

type client struct {
	base, token string
	http        *http.Client
}

// do sends one call and returns its latency and HTTP status. A refused
// command (pause of a rollout that just finished) is an answer too.
func (c client) do(ctx context.Context, method, path string) (time.Duration, int, error) {
	var body *bytes.Reader
	if method == http.MethodPost {
		body = bytes.NewReader([]byte(`{"reason":"bench"}`))
	} else {
		body = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	t0 := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if resp.StatusCode >= 500 {
		return 0, 0, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, buf.String())
	}
	return d, resp.StatusCode, nil
}

type reconcileTimer struct{ ds []time.Duration }

func (r *reconcileTimer) add(d time.Duration) { r.ds = append(r.ds, d) }

func (r *reconcileTimer) median() time.Duration {
	if len(r.ds) == 0 {
		return 0
	}
	s := slices.Clone(r.ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// memBackend keeps instances in memory; an instance is ready `ready`
// after it starts.
type memBackend struct {
	ready time.Duration
	mu    sync.Mutex
	next  atomic.Int64
	insts map[string][]rollout.Instance
}

func (b *memBackend) Scale(_ context.Context, rev rollout.Revision, n int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := rev.App + "/" + rev.Env
	var mine, others []rollout.Instance
	for _, in := range b.insts[k] {
		if in.Revision == rev.Number {
			mine = append(mine, in)
		} else {
			others = append(others, in)
		}
	}
	for len(mine) < n {
		id := b.next.Add(1)
		mine = append(mine, rollout.Instance{
			ID: fmt.Sprintf("i-%d", id), App: rev.App, Env: rev.Env, Revision: rev.Number, Version: rev.Version,
			State: rollout.Starting, StartedAt: time.Now(), Addr: fmt.Sprintf("127.0.0.1:%d", 10000+id%50000),
		})
	}
	b.insts[k] = append(others, mine[:n]...)
	return nil
}

func (b *memBackend) Instances(app, env string) []rollout.Instance {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	out := slices.Clone(b.insts[app+"/"+env])
	for i := range out {
		if at := out[i].StartedAt.Add(b.ready); !now.Before(at) {
			out[i].State, out[i].Ready, out[i].ReadySince = rollout.Running, true, at
		}
	}
	return out
}

type nopRouter struct{}

func (nopRouter) SetTraffic(string, string, rollout.Traffic) error { return nil }

func appSpec(name string) spec.App {
	replicas, deadline, surge := 3, 600, *spec.Int(1)
	return spec.App{
		APIVersion: spec.APIVersion,
		Kind:       spec.KindApp,
		Metadata:   spec.Metadata{Name: name},
		Spec: spec.AppSpec{
			Replicas:                &replicas,
			Workload:                spec.Workload{Command: "./bin/" + name},
			ProgressDeadlineSeconds: &deadline,
			Strategy: spec.Strategy{Type: spec.RollingUpdate, RollingUpdate: &spec.RollingUpdateStrategy{
				MaxSurge: &surge,
			}},
		},
		Environments: []spec.Environment{{Name: "production"}},
	}
}
