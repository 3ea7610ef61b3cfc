package server_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/audit"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/internal/pgtest"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/store/postgres"
	"github.com/gantry-dev/gantry/store/sqlite"
)

// chaosApp is an app with two environments of 2 instances each, probed
// every second, that rolls back a version making no progress for 10 s.
func chaosApp(name, stagingProxy, prodProxy string) string {
	return fmt.Sprintf(`apiVersion: gantry.dev/v1
kind: App
metadata: {name: %s}
spec:
%s  progressDeadlineSeconds: 10
environments:
  - name: staging
    proxy: {listen: %q}
  - name: prod
    proxy: {listen: %q}
`, name, twoSampleInstances(), stagingProxy, prodProxy)
}

// twoSampleInstances is the spec lines (indented two spaces) of 2
// instances of the sample workload, probed every second, with a 3 s
// termination grace period.
func twoSampleInstances() string {
	return fmt.Sprintf(`  replicas: 2
  workload:
    command: %s
    args: [sample, --port, "{{.Port}}", --version, "{{.Version}}", --instance, "{{.Instance}}"]
  livenessProbe: {httpGet: {path: /health}, periodSeconds: 1}
  readinessProbe: {httpGet: {path: /ready}, periodSeconds: 1}
  terminationGracePeriodSeconds: 3
`, gantryBin)
}

// target is one environment under test.
type target struct{ app, env string }

// planned is a rollout the chaos test makes and the phase it must end in.
type planned struct {
	target
	version string
	want    rollout.Phase
}

// chaosPlan is 20 rollouts per round over 4 environments: good versions,
// versions that never become ready, versions that crash at start and
// versions that crash a second after every start (once ready).
func chaosPlan(rounds int) [][]planned {
	kinds := [][]string{
		{"good", "never-ready", "crash-after", "crash", "good"},
		{"good", "crash", "crash-after", "never-ready", "good"},
		{"good", "good", "never-ready", "crash-after", "crash"},
		{"good", "never-ready", "crash", "crash-after", "good"},
	}
	targets := []target{{"shop", "staging"}, {"shop", "prod"}, {"blog", "staging"}, {"blog", "prod"}}
	var plan [][]planned
	for k, tg := range targets {
		var seq []planned
		for round := range rounds {
			for i, kind := range kinds[k] {
				p := planned{target: tg, version: fmt.Sprintf("v%d.%d", k, round*len(kinds[k])+i+1), want: rollout.Succeeded}
				switch kind {
				case "never-ready":
					p.version, p.want = p.version+"+never-ready", rollout.RolledBack
				case "crash":
					p.version, p.want = p.version+"+crash-at-start", rollout.RolledBack
				case "crash-after":
					p.version, p.want = p.version+"+crash-after=1s", rollout.RolledBack
				}
				seq = append(seq, p)
			}
		}
		plan = append(plan, seq)
	}
	return plan
}

// chaosRounds is how many rounds of chaosPlan the chaos tests run: 1, or
// 3 with GANTRY_CHAOS_LONG=1 (bench/crashloop.sh CHAOS=1).
func chaosRounds() int {
	if os.Getenv("GANTRY_CHAOS_LONG") == "1" {
		return 3
	}
	return 1
}

// deployResilient deploys version, retrying while the server is down. A
// deploy whose answer was lost may have been taken: it looks the version
// up in the history before asking again, so each version is deployed once.
func deployResilient(ctx context.Context, c *client.Client, p planned) (rollout.Rollout, error) {
	for {
		r, err := c.Deploy(ctx, p.app, p.env, p.version)
		if err == nil {
			return r, nil
		}
		var ce *client.Error
		if errors.As(err, &ce) && ce.Status < 500 {
			return r, err
		}
		for ctx.Err() == nil {
			hist, herr := c.History(ctx, p.app, p.env, 50)
			if herr != nil {
				time.Sleep(200 * time.Millisecond)
				continue
			}
			for _, h := range hist {
				if h.ToVersion == p.version {
					return h.Rollout, nil
				}
			}
			break
		}
		if ctx.Err() != nil {
			return r, fmt.Errorf("deploy %s: %w (last error: %v)", p.version, ctx.Err(), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitFinal polls a rollout until its phase is final, riding out restarts.
func waitFinal(ctx context.Context, c *client.Client, id int64) (rollout.Rollout, error) {
	var last rollout.Rollout
	var lastErr error
	for {
		r, err := c.Rollout(ctx, id)
		if err == nil {
			last = r
			if r.Phase.Final() {
				return r, nil
			}
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("rollout %d not final (phase %s; last error %v): %w", id, last.Phase, lastErr, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// killer kills a server with SIGKILL at random moments and starts a new
// one on the same data, until stopped.
type killer struct {
	t     *testing.T
	start func() *serverProc

	mu    sync.Mutex
	cur   *serverProc
	kills int
	// doubles counts kills within 1.5 s of the server's start.
	doubles int
}

func (k *killer) current() *serverProc {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cur
}

// run kills every 0.3–4 s (sometimes while the server is still adopting
// what the last one left) until ctx ends; one restart in three is killed
// again within 1.5 s of its start.
func (k *killer) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(300*time.Millisecond + rand.N(3700*time.Millisecond)):
		}
		k.mu.Lock()
		old := k.cur
		k.mu.Unlock()
		old.cmd.Process.Signal(syscall.SIGKILL)
		old.cmd.Wait()
		next := k.start()
		double := rand.N(3) == 0
		if double {
			time.Sleep(rand.N(1500 * time.Millisecond))
			next.cmd.Process.Signal(syscall.SIGKILL)
			next.cmd.Wait()
			next = k.start()
		}
		k.mu.Lock()
		k.cur = next
		k.kills++
		if double {
			k.kills++
			k.doubles++
		}
		k.mu.Unlock()
	}
}

// TestServer_Kill9ChaosKeepsEveryRolloutConsistent runs 20 rollouts over
// two apps and four environments, good and bad versions mixed (never
// ready, crashing at start, crashing a second after every start), while
// `gantry server` is killed with SIGKILL at random moments, one restart in
// three killed again within 1.5 s, and started again on the same data.
// Every rollout must end as its version deserves, every environment must
// run only its stable revision, and no instance process may be left
// outside the final server's view. GANTRY_CHAOS_LONG=1 runs 60 rollouts.
func TestServer_Kill9ChaosKeepsEveryRolloutConsistent(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos test: about a minute")
	}
	runChaos(t, nil, func(ctx context.Context, data string) (auditStore, error) {
		return sqlite.Open(ctx, filepath.Join(data, "gantry.db"))
	})
}

// TestServer_Kill9ChaosOnPostgres is the chaos test with the state in
// PostgreSQL: every restarted server takes the lead again.
func TestServer_Kill9ChaosOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos test: about a minute")
	}
	db := pgtest.Start(t).CreateDB(t, "gantry")
	runChaos(t, []string{"--database", db}, func(ctx context.Context, _ string) (auditStore, error) {
		return postgres.Open(ctx, db)
	})
}

// auditStore is a state store holding the audit log.
type auditStore interface {
	audit.Store
	rollout.Store
	Close() error
}

// runChaos runs the chaos test with servers started with args; openStore
// opens their state store once the last one has stopped.
func runChaos(t *testing.T, args []string, openStore func(ctx context.Context, data string) (auditStore, error)) {
	killInstancesAtEnd(t)
	data := t.TempDir()
	listen := freeAddr(t)
	rounds := chaosRounds()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rounds)*5*time.Minute)
	defer cancel()
	args = append(args, "--stop-instances-on-exit")
	start := func() *serverProc { return startServerProc(t, data, listen, args...) }
	k := &killer{t: t, start: start, cur: start()}
	c, err := client.New(client.Options{Server: k.cur.url, Actor: "chaos", Token: k.cur.token})
	if err != nil {
		t.Fatal(err)
	}
	for _, app := range []string{"shop", "blog"} {
		if _, err := c.Apply(ctx, app+".yaml", []byte(chaosApp(app, freeAddr(t), freeAddr(t)))); err != nil {
			t.Fatal(err)
		}
	}

	killCtx, stopKilling := context.WithCancel(ctx)
	killed := make(chan struct{})
	go func() { defer close(killed); k.run(killCtx) }()

	plan := chaosPlan(rounds)
	type outcome struct {
		planned
		got rollout.Rollout
		err error
	}
	results := make(chan outcome, 20*rounds)
	var wg sync.WaitGroup
	for _, seq := range plan {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, p := range seq {
				r, err := deployResilient(ctx, c, p)
				if err == nil {
					r, err = waitFinal(ctx, c, r.ID)
				}
				results <- outcome{planned: p, got: r, err: err}
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	stopKilling()
	<-killed
	close(results)
	t.Logf("killed the server %d times, %d of them within 1.5 s of its start", k.kills, k.doubles)

	n := 0
	phases := map[string]int{}
	var ended []rollout.Rollout
	for o := range results {
		n++
		phases[o.got.Phase.String()+" "+string(o.got.Reason)]++
		ended = append(ended, o.got)
		switch {
		case o.err != nil:
			t.Errorf("%s/%s %s: %v", o.app, o.env, o.version, o.err)
		case o.got.Phase != o.want:
			t.Errorf("%s/%s %s: rollout %d ended %s (%s: %s), want %s", o.app, o.env, o.version, o.got.ID, o.got.Phase, o.got.Reason, o.got.Message, o.want)
		default:
			checkTransitionEvents(ctx, t, c, o.got)
		}
	}
	t.Logf("rollouts ended: %v", phases)
	if n != 20*rounds && !t.Failed() {
		t.Errorf("%d rollouts ended, want %d", n, 20*rounds)
	}
	if t.Failed() {
		return
	}

	final := k.current()
	pids := checkStable(ctx, t, c, plan)
	for pid, id := range instanceProcesses(t) {
		if pids[pid] != id {
			_, recErr := os.Stat(filepath.Join(data, "instances", id+".json"))
			logs, _ := filepath.Glob(filepath.Join(data, "logs", "*", "*", id+".log"))
			var logText []byte
			if len(logs) > 0 {
				logText, _ = os.ReadFile(logs[0])
			}
			var history []string
			for _, seq := range plan {
				evs, _ := c.Events(ctx, seq[0].app, seq[0].env, 0, 0)
				for _, e := range evs {
					if strings.Contains(e.Message, id) {
						history = append(history, string(e.Reason)+": "+e.Message)
					}
				}
			}
			t.Errorf("orphan instance process %d (%s) runs outside the final server's view (its record: %v); its events: %q; its log:\n%s", pid, id, recErr, history, logText)
		}
	}
	final.cmd.Process.Signal(syscall.SIGTERM)
	if err := final.cmd.Wait(); err != nil {
		t.Errorf("final server exit: %v", err)
	}
	if st, err := openStore(ctx, data); err != nil {
		t.Errorf("open the state store to verify the audit log: %v", err)
	} else {
		verifyAudit(ctx, t, st, ended)
		st.Close()
	}
	for pid, id := range pids {
		if alive(pid) {
			t.Errorf("instance %s (pid %d) still runs after the final server stopped", id, pid)
		}
	}
}

// killInstancesAtEnd stops, when the test ends, any instance process a
// failed test left behind.
func killInstancesAtEnd(t *testing.T) {
	t.Cleanup(func() {
		for pid := range instanceProcesses(t) {
			syscall.Kill(-pid, syscall.SIGKILL)
		}
	})
}

// checkTransitionEvents checks that the event log holds the transition of
// a final rollout into its final phase: a kill between the rollout's
// update and its event must not lose the event.
func checkTransitionEvents(ctx context.Context, t *testing.T, c *client.Client, r rollout.Rollout) {
	t.Helper()
	events, err := c.Events(ctx, r.App, r.Env, 0, r.ID)
	if err != nil {
		t.Errorf("events of rollout %d: %v", r.ID, err)
		return
	}
	var seen []string
	for _, e := range events {
		if e.To == r.Phase {
			return
		}
		seen = append(seen, string(e.Reason))
	}
	t.Errorf("%s/%s rollout %d ended %s, but its events record no transition to %s: %v", r.App, r.Env, r.ID, r.Phase, r.Phase, seen)
}

// checkStable waits until every environment runs exactly its stable
// revision's ready instances and returns them by pid.
func checkStable(ctx context.Context, t *testing.T, c *client.Client, plan [][]planned) map[int]string {
	t.Helper()
	pids := map[int]string{}
	for _, seq := range plan {
		tg := seq[0].target
		var problem string
		for deadline := time.Now().Add(60 * time.Second); ; {
			problem = ""
			st, err := c.Status(ctx, tg.app, tg.env)
			if err != nil {
				problem = err.Error()
			} else {
				stable := st.Rollout.Stable()
				n := 0
				for _, rs := range st.Revisions {
					for _, in := range rs.Instances {
						n++
						if in.Revision != stable || !in.Ready || in.State != rollout.Running {
							problem = fmt.Sprintf("instance %s: revision %d %s ready=%v, want stable revision %d running and ready", in.ID, in.Revision, in.State, in.Ready, stable)
						}
					}
				}
				if problem == "" && n != 2 {
					problem = fmt.Sprintf("%d instances, want 2", n)
				}
				if problem == "" {
					for _, rs := range st.Revisions {
						for _, in := range rs.Instances {
							pids[in.PID] = in.ID
						}
					}
					break
				}
			}
			if time.Now().After(deadline) {
				t.Errorf("%s/%s: %s", tg.app, tg.env, problem)
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return pids
}

// verifyAudit checks, once the last server has stopped, the audit log's
// hash chain and that it holds the decision that ended every rollout. An
// empty log means this build does not audit the engine's decisions yet.
func verifyAudit(ctx context.Context, t *testing.T, st auditStore, ended []rollout.Rollout) {
	t.Helper()
	rep, err := audit.Verify(ctx, st)
	if err != nil {
		t.Errorf("verify the audit log: %v", err)
		return
	}
	if rep.Records == 0 {
		t.Logf("the audit log is empty: this build does not audit decisions")
		return
	}
	for _, p := range rep.Problems {
		t.Errorf("audit log: %s", p)
	}
	recs, err := st.ListAudit(ctx, audit.Filter{})
	if err != nil {
		t.Errorf("list the audit log: %v", err)
		return
	}
	audited := map[string]bool{} // audit targets: "rollout N event M"
	for _, r := range recs {
		audited[r.Target] = true
	}
	for _, r := range ended {
		evs, err := st.ListEvents(ctx, rollout.EventFilter{RolloutID: r.ID})
		if err != nil {
			t.Errorf("events of rollout %d: %v", r.ID, err)
			continue
		}
		decided := false
		for _, e := range evs {
			decided = decided || (e.To == r.Phase && audited[fmt.Sprintf("rollout %d event %d", r.ID, e.ID)])
		}
		if !decided {
			t.Errorf("the audit log holds no decision ending rollout %d (%s/%s) as %s", r.ID, r.App, r.Env, r.Phase)
		}
	}
	t.Logf("audit log: %d records, chain verified", rep.Records)
}
