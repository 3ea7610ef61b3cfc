package server

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-dev/gantry/alerting"
	"github.com/gantry-dev/gantry/analysis/querycheck"
	"github.com/gantry-dev/gantry/rollout"
)

// queryCheckTick is how often the user-defined checks of active
// rollouts are looked at; each is measured at its own interval (≥ 1s).
const queryCheckTick = time.Second

// instantQuerier is a metric source that also answers PromQL (the
// external Prometheus of --analysis-prometheus, metrics/promsource).
type instantQuerier interface {
	InstantQuery(ctx context.Context, expr string) ([]float64, error)
}

// queryChecks measures the user-defined PromQL checks of
// spec.analysis.checks while rollouts run, and aborts a rollout whose
// check fails (querycheck.Judge).
type queryChecks struct {
	// ev holds gantry's own metrics when there are no alert rules (whose
	// evaluator keeps them otherwise); nil then.
	ev *alerting.Evaluator

	mu   sync.Mutex
	runs map[int64]*checkRun // by rollout ID
	// counts are the measurements since the server started, for /metrics;
	// bounded by the checks the specs name.
	counts map[checkCount]uint64
}

type checkCount struct {
	app, env, check string
	outcome         querycheck.Outcome
}

// checkRun is one rollout's checks and their measurements.
type checkRun struct {
	checks []querycheck.Check
	exprs  []string // the checks' queries for this rollout
	ms     [][]querycheck.Measurement
	next   []time.Time
	done   bool // a check failed: the rollout was aborted
}

// newQueryChecks keeps a history of reg's metrics for the checks when
// the alert rules' evaluator does not.
func (s *Server) newQueryChecks(reg prometheus.Gatherer) (*queryChecks, error) {
	c := &queryChecks{runs: map[int64]*checkRun{}, counts: map[checkCount]uint64{}}
	if s.alerts == nil {
		ev, err := alerting.New(alerting.Options{Gatherer: reg, Interval: s.opts.AlertInterval, Logf: s.opts.Logf, Now: s.opts.AlertClock,
			History: s.newHistory()})
		if err != nil {
			return nil, err
		}
		c.ev = ev
	}
	return c, nil
}

// runQueryChecks measures the checks until ctx ends (on the leader).
func (s *Server) runQueryChecks(ctx context.Context) {
	if s.checks.ev != nil {
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.checks.ev.Run(ctx)
		}()
		defer func() { <-done }()
	}
	tick := time.NewTicker(queryCheckTick)
	defer tick.Stop()
	for ctx.Err() == nil {
		select {
		case now := <-tick.C:
			s.stepQueryChecks(ctx, now)
		case <-ctx.Done():
		}
	}
}

// query runs a check's query: on the external Prometheus when the
// analysis reads one, else on gantry's own metrics at their newest sample.
func (s *Server) checkQuery(ctx context.Context, expr string) ([]float64, error) {
	if q, ok := s.opts.MetricSource.(instantQuerier); ok {
		return q.InstantQuery(ctx, expr)
	}
	ev := s.historyEvaluator()
	at := ev.History().Latest()
	if at.IsZero() {
		return nil, nil // no samples yet: no data
	}
	vec, err := ev.Query(ctx, expr, at)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(vec))
	for i, x := range vec {
		out[i] = x.F
	}
	return out, nil
}

// stepQueryChecks measures the checks that are due, of every rollout in
// progress, and aborts a rollout whose check fails.
func (s *Server) stepQueryChecks(ctx context.Context, now time.Time) {
	engine := s.leading().engine
	if engine == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, scrapeTimeout)
	defer cancel()
	rs, err := s.store.ListRollouts(ctx, rollout.RolloutFilter{Active: true})
	if err != nil {
		return
	}
	c := s.checks
	c.mu.Lock()
	defer c.mu.Unlock()
	active := map[int64]bool{}
	for _, r := range rs {
		if r.Phase.Final() || r.Phase == rollout.RollingBack {
			continue
		}
		active[r.ID] = true
		run, target := c.runs[r.ID], rollout.Revision{}
		if run == nil || !run.done {
			if target, err = s.store.GetRevision(ctx, r.App, r.Env, r.ToRevision); err != nil {
				continue
			}
		}
		if run == nil {
			run = newCheckRun(s, r, target)
			c.runs[r.ID] = run
		}
		if !run.done {
			s.measureChecks(ctx, engine, r, target, run, now)
		}
	}
	for id := range c.runs {
		if !active[id] {
			delete(c.runs, id)
		}
	}
	s.selectHistory(c.runs)
}

// newCheckRun compiles the new revision's checks (the spec was checked
// when it was applied; a check that no longer compiles is logged and skipped).
func newCheckRun(s *Server, r rollout.Rollout, target rollout.Revision) *checkRun {
	run := &checkRun{}
	if target.Spec.Analysis == nil {
		return run
	}
	for _, qc := range target.Spec.Analysis.Checks {
		chk, err := qc.Compile()
		if err != nil {
			s.opts.Logf("rollout %d of %s/%s: check %s: %v", r.ID, r.App, r.Env, qc.Name, err)
			continue
		}
		expr, err := chk.Render(querycheck.Vars{App: r.App, Env: r.Env, Revision: target.Number, Version: target.Version})
		if err != nil {
			s.opts.Logf("rollout %d of %s/%s: check %s: %v", r.ID, r.App, r.Env, qc.Name, err)
			continue
		}
		run.checks = append(run.checks, chk)
		run.exprs = append(run.exprs, expr)
	}
	run.ms = make([][]querycheck.Measurement, len(run.checks))
	run.next = make([]time.Time, len(run.checks))
	return run
}

func (s *Server) measureChecks(ctx context.Context, engine *rollout.Engine, r rollout.Rollout, target rollout.Revision, run *checkRun, now time.Time) {
	for i, chk := range run.checks {
		if now.Before(run.next[i]) {
			continue
		}
		run.next[i] = now.Add(chk.Interval - queryCheckTick/2) // the next tick at or after the interval
		values, err := s.checkQuery(ctx, run.exprs[i])
		m := querycheck.Measure(chk, now, values, err)
		run.ms[i] = append(run.ms[i], m)
		s.checks.counts[checkCount{r.App, r.Env, chk.Name, m.Outcome}]++
		v := querycheck.Judge(chk, run.ms[i])
		if m.Outcome == querycheck.Failed || m.Outcome == querycheck.Errored {
			s.opts.Logf("rollout %d of %s/%s: %s", r.ID, r.App, r.Env, v.Reason)
		}
		if !v.Fail {
			continue
		}
		run.done = true
		if _, err := engine.Abort(ctx, rollout.CommandRequest{App: r.App, Env: r.Env, Actor: "check " + chk.Name, Why: v.Reason}); err != nil {
			s.opts.Logf("check %s: abort the rollout of %s in %s: %v", chk.Name, r.App, r.Env, err)
		}
		return
	}
}
