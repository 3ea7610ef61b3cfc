package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/analysis"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/dataplane"
	"github.com/gantry-dev/gantry/loadgen"
	"github.com/gantry-dev/gantry/rollout"
)

// killStrategies is the order in which the kill test's rollouts take the
// strategies of dataPlaneStrategies.
var killStrategies = []string{"rolling", "canary", "bluegreen"}

// killRollout is one rollout of TestDataPlane_Kill9ServerUnderLoad.
type killRollout struct {
	strategy string
	// bad: the version answers 20% of its requests with 500 (the sample's
	// errors knob) and must be rolled back; otherwise it must be promoted.
	bad bool
}

// killPlan is the i-th rollout: the strategies in turn, good and bad
// versions alternating, so that any six rollouts in a row cover every
// strategy with both.
func killPlan(i int) killRollout {
	return killRollout{strategy: killStrategies[i%len(killStrategies)], bad: i%2 == 1}
}

// evidence is what the status API shows of a rollout's counters: the
// proxy's requests per revision and, while the analysis judges it, the
// evidence of its rollback tests (counted since the analysis began).
type evidence struct {
	phase rollout.Phase
	step  int
	// requests are per revision (RevisionStatus.Name).
	requests map[string]uint64
	// analysis is each rollout-scoped count and largest e-value; nil when
	// no analysis is shown.
	analysis map[string]float64
	// analysisAt is when the shown analysis was observed.
	analysisAt time.Time
}

// readEvidence reads web/prod's evidence of rollout id.
func readEvidence(ctx context.Context, c *client.Client, id int64) (evidence, error) {
	st, err := c.Status(ctx, "web", "prod")
	if err != nil {
		return evidence{}, err
	}
	if st.Rollout == nil || st.Rollout.ID != id {
		return evidence{}, fmt.Errorf("status shows another rollout than %d", id)
	}
	e := evidence{phase: st.Rollout.Phase, step: st.Rollout.Step, requests: map[string]uint64{}}
	for _, r := range st.Revisions {
		e.requests[r.Name()] = r.Traffic.Requests
	}
	if a := st.Analysis; a != nil && a.Rollout == id {
		e.analysis, e.analysisAt = rolloutEvidence(a.Checks), a.At
	}
	return e, nil
}

// rolloutEvidence flattens the checks whose counts cover the whole
// analysis (the rollback tests): none of them may go down while the
// rollout runs.
func rolloutEvidence(checks []analysis.Check) map[string]float64 {
	m := map[string]float64{}
	for _, c := range checks {
		if c.Scope != analysis.ScopeRollout {
			continue
		}
		name := fmt.Sprint(c.Trigger)
		if c.Quantile > 0 {
			name += fmt.Sprintf(" p%g", c.Quantile*100)
		}
		for group, n := range map[string]*analysis.Counts{"canary": c.Canary, "baseline": c.Baseline} {
			if n != nil {
				m[name+" "+group+" requests"] = float64(n.Total)
				m[name+" "+group+" events"] = float64(n.Events)
			}
		}
		if c.Kind == analysis.Sequential {
			m[name+" largest e-value"] = c.Value
		}
	}
	return m
}

// shrunk lists the counts of before that after shows smaller; counts
// missing from after (a revision scaled away) are not compared.
func shrunk(before, after evidence) []string {
	var out []string
	for k, v := range before.requests {
		if w, ok := after.requests[k]; ok && w < v {
			out = append(out, fmt.Sprintf("revision %s requests %d → %d", k, v, w))
		}
	}
	if after.analysis != nil {
		for k, v := range before.analysis {
			if w, ok := after.analysis[k]; ok && w < v {
				out = append(out, fmt.Sprintf("analysis %s %g → %g", k, v, w))
			}
		}
	}
	sort.Strings(out)
	return out
}

// evidenceAfterRestart waits until the restarted server shows rollout id
// as far as before did: its analysis observed again when before showed
// one (unless the rollout moved on or ended meanwhile).
func evidenceAfterRestart(ctx context.Context, t *testing.T, c *client.Client, id int64, before evidence, restarted time.Time) (evidence, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var last error
	for ctx.Err() == nil {
		e, err := readEvidence(ctx, c, id)
		switch {
		case err != nil:
			last = err
		case before.analysis == nil || e.phase.Final() || e.step != before.step:
			return e, nil
		case e.analysis != nil && e.analysisAt.After(restarted):
			return e, nil
		default:
			last = fmt.Errorf("rollout %d at step %d, %s: no analysis observed since the restart", id, e.step, e.phase)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return evidence{}, fmt.Errorf("30 s after the restart: %w", last)
}

// strategyTally counts one strategy's rollouts and how they ended.
type strategyTally struct{ rollouts, right, wrong, kills int }

// TestDataPlane_Kill9ServerUnderLoad kills `gantry server` with SIGKILL
// at random moments of rolling, canary and blue-green rollouts of web
// (good versions and bad ones, by turns) under steady load through its
// proxy, starting it again each time. GANTRY_DATAPLANE_KILLS (default 3)
// kills in all, at most GANTRY_DATAPLANE_KILLS_PER_ROLLOUT (default 1) per
// rollout, GANTRY_DATAPLANE_RATE requests/s (default 300);
// bench/dataplane.sh runs 20 kills at 1,000/s. The data plane keeps
// serving: no request fails but the bad versions' own 500s; after each
// restart the proxy's per-revision counts and the analysis' evidence are
// at least what they were before the kill; every good version is
// promoted and every bad one rolled back; the proxy counted exactly the
// requests the load sent (its counters were never reset).
func TestDataPlane_Kill9ServerUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("kills gantry server under load: about a minute")
	}
	kills := envInt(t, "GANTRY_DATAPLANE_KILLS", 3)
	perRollout := envInt(t, "GANTRY_DATAPLANE_KILLS_PER_ROLLOUT", 1)
	rate := envInt(t, "GANTRY_DATAPLANE_RATE", 300)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(kills+3)*time.Minute)
	defer cancel()
	data, srv, c := dataPlaneServer(t)
	listen, addr := strings.TrimPrefix(srv.url, "http://"), freeAddr(t)
	applyRollingV1(ctx, t, c, addr)
	firstBoot := dataPlaneBoot(t, data)
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	began := time.Now()
	l := loadgen.Start(loadCtx, loadgen.Options{URL: "http://" + addr + "/", Rate: rate, Workers: 32})

	tally := map[string]*strategyTally{}
	bad := map[string]bool{} // versions (without knobs) that inject errors
	killed, compared := 0, 0
	for i := 0; killed < kills; i++ {
		plan := killPlan(i)
		if _, err := c.Apply(ctx, "web.yaml", []byte(strategyApp("web", dataPlaneStrategies[plan.strategy], addr))); err != nil {
			t.Fatalf("apply web with %s: %v", plan.strategy, err)
		}
		version := fmt.Sprintf("v%d", i+2)
		knobs := "+slow-start=2s"
		if plan.bad {
			knobs += ",errors=0.2"
			bad[version] = true
		}
		r, err := c.Deploy(ctx, "web", "prod", version+knobs)
		if err != nil {
			t.Fatalf("deploy %s: %v", version+knobs, err)
		}
		tl := tally[plan.strategy]
		if tl == nil {
			tl = &strategyTally{}
			tally[plan.strategy] = tl
		}
		tl.rollouts++
		for range perRollout {
			if killed == kills {
				break
			}
			time.Sleep(time.Duration(500+rand.IntN(2500)) * time.Millisecond)
			before, err := readEvidence(ctx, c, r.ID)
			if err != nil {
				t.Fatalf("before kill %d: %v", killed+1, err)
			}
			if before.phase.Final() {
				break // over before its moment came: the next rollout takes the kill
			}
			if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			srv.cmd.Wait()
			killed++
			tl.kills++
			srv = startServerProc(t, data, listen)
			restarted := time.Now()
			c = serverClient(t, srv)
			after, err := evidenceAfterRestart(ctx, t, c, r.ID, before, restarted)
			if err != nil {
				t.Errorf("kill %d: %v", killed, err)
				continue
			}
			for _, s := range shrunk(before, after) {
				t.Errorf("kill %d (%s rollout %d): after the restart %s", killed, plan.strategy, r.ID, s)
			}
			n := len(before.requests)
			if after.analysis != nil {
				n += len(before.analysis)
			}
			compared += n
			t.Logf("kill %d: server killed during %s rollout %d (%s version) at step %d, %s; restarted, %d counts compared, analysis %v",
				killed, plan.strategy, r.ID, map[bool]string{false: "good", true: "bad"}[plan.bad], before.step, before.phase, n, before.analysis != nil)
		}
		end, err := c.WaitRollout(ctx, r.ID, 100*time.Millisecond, nil)
		want := rollout.Succeeded
		if plan.bad {
			want = rollout.RolledBack
		}
		if err != nil || end.Phase != want {
			tl.wrong++
			t.Errorf("%s rollout %d of %s: %v %s %s %s, want %s", plan.strategy, r.ID, version+knobs, err, end.Phase, end.Reason, end.Message, want)
		} else {
			tl.right++
		}
		t.Logf("rollout %d (%s, %s): %s %s after %s", r.ID, plan.strategy, version+knobs, end.Phase, end.Reason, end.FinishedAt.Sub(end.CreatedAt).Round(time.Millisecond))
	}
	stopLoad()
	l.Wait()
	took := time.Since(began)

	var injected, failed uint64
	for _, v := range l.ByVersion() {
		if bad[v.Version] {
			injected += v.Failed
		} else {
			failed += v.Failed
		}
	}
	if failed != 0 {
		t.Errorf("%d of %d requests failed across %d kills of the server, not counting the bad versions' own 500s (last error: %s)", failed, l.Total(), killed, l.LastError())
	}
	if got := proxyTotal(ctx, t, c, "web"); got != l.Total() {
		t.Errorf("the proxy counted %d requests, the load sent %d: its counters were reset or lost requests", got, l.Total())
	}
	if b := dataPlaneBoot(t, data); b != firstBoot {
		t.Errorf("the data plane restarted (boot %s, then %s) though only the server was killed", firstBoot, b)
	}
	t.Logf("table: %-10s %8s %6s %6s %6s", "strategy", "rollouts", "kills", "right", "wrong")
	for _, s := range killStrategies {
		if tl := tally[s]; tl != nil {
			t.Logf("table: %-10s %8d %6d %6d %6d", s, tl.rollouts, tl.kills, tl.right, tl.wrong)
		}
	}
	t.Logf("table: kills %d; requests %d in %s (%.0f/s); failed %d; bad versions' own 500s %d; counts compared across restarts %d",
		killed, l.Total(), took.Round(time.Second), float64(l.Total())/took.Seconds(), failed, injected, compared)
	t.Logf("by version: %s", versionCounts(l.ByVersion()))
	srv.cmd.Process.Signal(syscall.SIGTERM)
	srv.cmd.Wait()
}

// versionCounts renders a load's counts per version on one line.
func versionCounts(cs []loadgen.Counts) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%s %d ok %d failed; ", c.Version, c.OK, c.Failed)
	}
	return strings.TrimSuffix(b.String(), "; ")
}

// dataPlaneBoot is the boot ID of data's data plane process.
func dataPlaneBoot(t *testing.T, data string) string {
	t.Helper()
	r, err := dataplane.ReadRecord(data)
	if err != nil {
		t.Fatal(err)
	}
	return r.BootID
}
