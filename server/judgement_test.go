package server_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/loadgen"
	"github.com/gantry-dev/gantry/rollout"
)

// TestServer_RollingUpdateWithErrorsRolledBack: the analysis judges a
// rolling update too. A version that fails 5% of its requests is rolled
// back while the last old instance still serves as its baseline, and the
// old version serves again.
func TestServer_RollingUpdateWithErrorsRolledBack(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs real instances under load")
	}
	e := startServer(t, 60)
	l, stop := e.load(t)
	defer stop()
	r := e.deploy(t, "v2+errors=0.05")
	if r.Phase != rollout.RolledBack || !slices.Contains([]string{"ErrorTest", "ErrorRate"}, string(r.Reason)) {
		t.Fatalf("rollout = %s %s (%s), want RolledBack by ErrorTest or ErrorRate", r.Phase, r.Reason, r.Message)
	}
	t.Logf("rolled back after %s: %s: %s", r.FinishedAt.Sub(r.CreatedAt).Round(time.Millisecond), r.Reason, r.Message)
	before := served(l)["v1"]
	waitFor(t, 20*time.Second, "v1 to serve again", func() bool { return served(l)["v1"] > before+100 })
	for _, in := range e.srv.Instances("web", "prod") {
		if in.Revision == r.ToRevision && in.State != rollout.Terminating {
			t.Errorf("instance %s of the rolled back revision still %s", in.ID, in.State)
		}
	}
}

// TestServer_RollingUpdateGoodVersionSucceeds: a good version's rolling
// update completes on evidence, not on the wait's end.
func TestServer_RollingUpdateGoodVersionSucceeds(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs real instances under load")
	}
	e := startServer(t, 60)
	l, stop := e.load(t)
	r := e.deploy(t, "v2")
	stop()
	if r.Phase != rollout.Succeeded {
		t.Fatalf("rollout = %s %s: %s", r.Phase, r.Reason, r.Message)
	}
	if l.Failed() != 0 {
		t.Fatalf("%d requests failed; last: %s", l.Failed(), l.LastError())
	}
	evs, err := e.c.Events(context.Background(), "web", "prod", 0, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Reason == "StepCompleted" && strings.Contains(ev.Message, "as the analysis' baseline") {
			return
		}
	}
	t.Errorf("no event says the last old instance was kept as the baseline: %+v", evs)
}

// TestServer_SharedDependencyOutageNoRollback: when the stable revision
// and the canary both report their database failing, and both fail the
// requests that need it, the canary is not rolled back: the status says
// it is an environment problem.
func TestServer_SharedDependencyOutageNoRollback(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs real instances under load")
	}
	// The outage begins: a release of the stable version that cannot reach
	// its database (the Dependency check off for it, so that it goes through).
	e := startServer(t, 60)
	ctx := context.Background()
	rolling := strings.Replace(appSpec("127.0.0.1:0", 60), "environments:", "  analysis: {disabled: [Dependency]}\nenvironments:", 1)
	if _, err := e.c.Apply(ctx, "gantry.yaml", []byte(rolling)); err != nil {
		t.Fatal(err)
	}
	if r := e.deploy(t, "v1+db-down"); r.Phase != rollout.Succeeded {
		t.Fatalf("deploy v1+db-down: %s %s", r.Phase, r.Message)
	}
	canary := strings.Replace(canarySpec(), "        - pause: {duration: 10m}", "        - pause: {}", 1)
	if _, err := e.c.Apply(ctx, "gantry.yaml", []byte(canary)); err != nil {
		t.Fatal(err)
	}
	loadCtx, cancel := context.WithCancel(ctx)
	l := loadgen.Start(loadCtx, loadgen.Options{URL: "http://" + e.srv.ProxyAddr("web", "prod") + "/db", Rate: 200, Workers: 16})
	defer func() { cancel(); l.Wait() }()
	r, err := e.c.Deploy(ctx, "web", "prod", "v2+db-down")
	if err != nil {
		t.Fatal(err)
	}
	var last rollout.Rollout
	environment := false
	deadline := time.Now().Add(25 * time.Second)
	for time.Now().Before(deadline) {
		if last, err = e.c.Rollout(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if last.Phase == rollout.RollingBack || last.Phase.Final() {
			t.Fatalf("shared outage: rollout %s %s: %s", last.Phase, last.Reason, last.Message)
		}
		environment = environment || strings.Contains(last.Message, "Environment: an environment problem")
		time.Sleep(200 * time.Millisecond)
	}
	if !environment {
		t.Errorf("status never named the environment problem; last: %s %s", last.Phase, last.Message)
	}
	if l.Failed() == 0 {
		t.Errorf("no request failed: the outage was not exercised")
	}
	t.Logf("after 25s: %s: %s (%d of %d requests failed)", last.Phase, last.Message, l.Failed(), l.Total())
}

// waitFor polls cond every 100ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out after %s waiting for %s", d, fmt.Sprint(what))
}

// TestServer_RestartMidCanaryContinuesTheTest kills `gantry server` while
// a canary is being judged and starts it again on the same data: the
// analysis continues with the evidence it had (its count of compared
// canary requests goes on from where it was) instead of starting anew.
func TestServer_RestartMidCanaryContinuesTheTest(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs real servers and instances under load")
	}
	killInstancesAtEnd(t)
	data, listen, proxyAddr := t.TempDir(), freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	spec := strings.Replace(canarySpec(), "        - pause: {duration: 10m}", "        - pause: {}", 1)
	spec = strings.Replace(spec, "  strategy:", "  analysis: {minRequests: 1000000}\n  strategy:", 1)
	spec = strings.Replace(spec, "  - name: prod\n", fmt.Sprintf("  - name: prod\n    proxy: {listen: %q}\n", proxyAddr), 1)

	a := startServerProc(t, data, listen)
	c, err := client.New(client.Options{Server: a.url, Token: a.token})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, "gantry.yaml", []byte(spec)); err != nil {
		t.Fatal(err)
	}
	r, err := c.Deploy(ctx, "web", "prod", "v1")
	if err == nil {
		r, err = c.WaitRollout(ctx, r.ID, 100*time.Millisecond, nil)
	}
	if err != nil || r.Phase != rollout.Succeeded {
		t.Fatalf("v1: %v %s %s", err, r.Phase, r.Message)
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	l := loadgen.Start(loadCtx, loadgen.Options{URL: "http://" + proxyAddr + "/", Rate: 200, Workers: 16})
	defer func() { stopLoad(); l.Wait() }()
	if r, err = c.Deploy(ctx, "web", "prod", "v2"); err != nil {
		t.Fatal(err)
	}
	before := waitCompared(ctx, t, c, r.ID, 1000)
	a.cmd.Process.Signal(syscall.SIGKILL)
	a.cmd.Wait()
	t.Logf("killed the server with %d compared canary requests", before)

	b := startServerProc(t, data, listen, "--stop-instances-on-exit")
	defer func() {
		stopLoad()
		b.cmd.Process.Signal(syscall.SIGTERM) // stops the instances too
		b.cmd.Wait()
	}()
	c, _ = client.New(client.Options{Server: b.url, Token: b.token})
	after := waitCompared(ctx, t, c, r.ID, 1)
	t.Logf("the restarted server's analysis has %d compared canary requests", after)
	// The first observation after the restart only sets the counters'
	// origin; at most the last second's requests were not stored.
	if after < before-200 {
		t.Fatalf("after the restart the analysis counts %d compared canary requests, before %d: the evidence was reset", after, before)
	}
	if r, err = c.Rollout(ctx, r.ID); err != nil || r.Phase.Final() || r.Phase == rollout.RollingBack {
		t.Fatalf("rollout after restart: %v %s %s", err, r.Phase, r.Message)
	}
}

var comparedRequests = regexp.MustCompile(`compared canary requests in this step, have ([0-9,]+)`)

// waitCompared polls rollout id until its status counts at least n
// compared canary requests, and returns the count.
func waitCompared(ctx context.Context, t *testing.T, c *client.Client, id int64, n int) int {
	t.Helper()
	var last string
	for ctx.Err() == nil {
		if r, err := c.Rollout(ctx, id); err == nil {
			last = r.Message
			if m := comparedRequests.FindStringSubmatch(r.Message); m != nil {
				got, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
				if got >= n {
					return got
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("never %d compared canary requests; last status: %s", n, last)
	return 0
}
