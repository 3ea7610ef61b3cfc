package server_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/rollout"
)

// crashLoopRuns is how many times each crash-loop scenario runs in one go
// test: GANTRY_CRASHLOOP_RUNS, or 2 (bench/crashloop.sh runs 20).
func crashLoopRuns(t *testing.T) int {
	t.Helper()
	v := os.Getenv("GANTRY_CRASHLOOP_RUNS")
	if v == "" {
		return 2
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("GANTRY_CRASHLOOP_RUNS=%q: want a positive number of runs", v)
	}
	return n
}

// crashLoopApp is web with 2 instances, probed every second, rolled out
// with strategy (YAML under spec.strategy, indented four spaces).
func crashLoopApp(proxy, strategy string) string {
	return fmt.Sprintf(`apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
%s  progressDeadlineSeconds: 120
  strategy:
%s
environments:
  - name: prod
    proxy: {listen: %q}
`, twoSampleInstances(), strategy, proxy)
}

// crashScenario is a rollout of a crashing version during which the
// server is killed right after the version's first crash.
type crashScenario struct {
	name     string
	strategy string
	version  string
}

var crashScenarios = []crashScenario{
	{
		// Green crashes 3 s after each start, as long as the scale-down delay.
		name: "blue-green scale-down delay",
		strategy: `    type: BlueGreen
    blueGreen: {scaleDownDelaySeconds: 3}`,
		version: "v2+crash-after=3s",
	},
	{
		name: "canary pause",
		strategy: `    type: Canary
    canary:
      steps:
        - setWeight: 50
        - pause: {duration: 8s}`,
		version: "v2+crash-after=2s",
	},
}

// TestServer_Kill9AfterFirstCrashRollsBack reproduces a crashing release
// promoted after a server restart: a new version whose instances crash a
// few seconds after every start is rolled out (blue-green with a
// scale-down delay as long as that, and a canary pause); the server is
// killed with SIGKILL right after the first crash and started again on
// the same data. The rollout must end RolledBack every time, with the
// stable version serving. Each scenario runs crashLoopRuns times and the
// tally is logged ("tally: ...").
func TestServer_Kill9AfterFirstCrashRollsBack(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: each run takes about 20 seconds")
	}
	killInstancesAtEnd(t)
	runs := crashLoopRuns(t)
	var mu sync.Mutex
	tally := map[string]map[string]int{}
	for _, sc := range crashScenarios {
		tally[sc.name] = map[string]int{}
		for i := range runs {
			t.Run(fmt.Sprintf("%s/%d", strings.ReplaceAll(sc.name, " ", "-"), i+1), func(t *testing.T) {
				t.Parallel()
				end := runCrashScenario(t, sc)
				mu.Lock()
				tally[sc.name][end]++
				mu.Unlock()
			})
		}
	}
	t.Cleanup(func() {
		for _, sc := range crashScenarios {
			t.Logf("tally: %s: %d runs: %v", sc.name, runs, tally[sc.name])
		}
	})
}

// runCrashScenario runs sc once and returns how the rollout ended
// ("RolledBack CrashLoop", or what went wrong).
func runCrashScenario(t *testing.T, sc crashScenario) string {
	data := t.TempDir()
	listen := freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	a := startServerProc(t, data, listen)
	c, err := client.New(client.Options{Server: a.url, Token: a.token})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, "gantry.yaml", []byte(crashLoopApp(freeAddr(t), sc.strategy))); err != nil {
		t.Fatal(err)
	}
	r, err := c.Deploy(ctx, "web", "prod", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if r, err = c.WaitRollout(ctx, r.ID, 100*time.Millisecond, nil); err != nil || r.Phase != rollout.Succeeded {
		t.Fatalf("v1: %v %s", err, r.Phase)
	}
	if r, err = c.Deploy(ctx, "web", "prod", sc.version); err != nil {
		t.Fatal(err)
	}
	at := waitFirstCrash(ctx, t, c, r.ToRevision)
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.cmd.Wait()
	t.Logf("killed the server after the first crash of revision %d, in step %d (%s): %s", r.ToRevision, at.Step, at.Phase, at.Message)

	b := startServerProc(t, data, listen, "--stop-instances-on-exit")
	c, _ = client.New(client.Options{Server: b.url, Token: b.token})
	end, err := waitFinal(ctx, c, r.ID)
	if err != nil {
		t.Fatalf("rollout after the restart: %v", err)
	}
	got := end.Phase.String() + " " + string(end.Reason)
	if end.Phase != rollout.RolledBack {
		t.Errorf("rollout of %s after a restart ended %s (%s: %s), want RolledBack", sc.version, end.Phase, end.Reason, end.Message)
	}
	// The stable version serves, with nothing of the crashing one left.
	var problem string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		problem = stableOnly(ctx, c, r.FromRevision)
		if problem == "" {
			break
		}
	}
	if problem != "" {
		t.Errorf("after the rollback: %s", problem)
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	if err := b.cmd.Wait(); err != nil {
		t.Errorf("server exit: %v", err)
	}
	return got
}

// waitFirstCrash waits until an instance of revision rev has restarted
// (or is backing off) and returns the rollout then.
func waitFirstCrash(ctx context.Context, t *testing.T, c *client.Client, rev int) rollout.Rollout {
	t.Helper()
	for {
		st, err := c.Status(ctx, "web", "prod")
		if err != nil {
			t.Fatal(err)
		}
		for _, rs := range st.Revisions {
			for _, in := range rs.Instances {
				if in.Revision == rev && (in.Restarts > 0 || in.State == rollout.BackingOff) && st.Rollout != nil {
					return *st.Rollout
				}
			}
		}
		if st.Rollout != nil && st.Rollout.Phase.Final() {
			t.Fatalf("rollout ended %s (%s: %s) before revision %d crashed", st.Rollout.Phase, st.Rollout.Reason, st.Rollout.Message, rev)
		}
		if ctx.Err() != nil {
			t.Fatalf("revision %d never crashed: %v", rev, ctx.Err())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stableOnly says what is wrong with web/prod if anything but revision
// stable's 2 ready instances runs, or it does not get all traffic.
func stableOnly(ctx context.Context, c *client.Client, stable int) string {
	st, err := c.Status(ctx, "web", "prod")
	if err != nil {
		return err.Error()
	}
	n := 0
	for _, rs := range st.Revisions {
		for _, in := range rs.Instances {
			n++
			if in.Revision != stable || !in.Ready {
				return fmt.Sprintf("instance %s: revision %d %s ready=%v, want revision %d ready", in.ID, in.Revision, in.State, in.Ready, stable)
			}
		}
	}
	if n != 2 {
		return fmt.Sprintf("%d instances, want 2", n)
	}
	return ""
}
