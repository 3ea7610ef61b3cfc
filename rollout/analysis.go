package rollout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/analysis"
	"github.com/gantry-dev/gantry/spec"
)

// MetricSource reads what the router saw of each revision. Counters are
// cumulative since an arbitrary origin; the engine takes differences. A
// source that also implements GroupMetricSource reports a revision's
// primary instances here and its baseline group apart.
type MetricSource interface {
	RevisionMetrics(app, env string) map[int]RevisionMetrics
}

// RevisionMetrics are one revision's cumulative request counters.
type RevisionMetrics struct {
	// Requests counts finished requests, ClientClosed those whose client
	// went away first (never errors), Errors the 5xx answers.
	Requests, Errors, ClientClosed uint64
	// LatencyBounds are the inclusive upper bounds of the latency buckets
	// (increasing, the same for every revision); LatencyCounts the
	// cumulative count per bucket.
	LatencyBounds []time.Duration
	LatencyCounts []uint64
	// Origin names where the counters started from zero (such as the data
	// plane's boot ID): a change between two samples means they started
	// again, and the later sample counts whole. Empty: unknown; a decrease
	// of Requests is then taken as a restart.
	Origin string
}

// analysisRun is the analysis of one rollout: the sequential state and
// the last counters seen.
type analysisRun struct {
	an   *analysis.Analyzer
	prev map[int]RevisionMetrics
	// prevBase is the last counters of the baseline group, when the
	// canary is compared with a like-for-like baseline.
	prevBase  RevisionMetrics
	lastAt    time.Time
	everReady map[string]bool
	result    AnalysisResult
	// served is when the target last served a request, or when the run
	// began.
	served time.Time
	// fallbackNoted: event BaselinePrimary was recorded (noteFallback).
	fallbackNoted bool
	// live is the standing after the latest observation (LiveAnalysis),
	// guarded by Engine.cache.
	live *LiveAnalysis
}

// analysisConfig maps the spec's analysis block onto the analysis package's
// configuration; unset fields keep the plan's defaults.
func analysisConfig(s *spec.AnalysisSpec) (analysis.Config, error) {
	cfg := analysis.DefaultConfig()
	if s == nil {
		return cfg, nil
	}
	if s.MaxUnhealthyPercent != nil {
		cfg.MaxUnhealthyShare = float64(*s.MaxUnhealthyPercent) / 100
	}
	if s.MaxErrorPercent != nil {
		cfg.MaxErrorRate = *s.MaxErrorPercent / 100
	}
	if s.MaxLatencyRatio != nil {
		cfg.MaxLatencyRatio = *s.MaxLatencyRatio
	}
	if s.Alpha != nil {
		cfg.Alpha = *s.Alpha
	}
	if s.MinRequests != nil {
		cfg.MinRequests = *s.MinRequests
	}
	// A zero margin or warm-up in the spec means none; in analysis.Config
	// zero means the default and a negative value none.
	orNone := func(v float64) float64 {
		if v == 0 {
			return -1
		}
		return v
	}
	if p := s.ErrorMarginPercent; p != nil {
		cfg.ErrorMargin = orNone(*p / 100)
	}
	if p := s.LatencyMarginPercent; p != nil {
		cfg.LatencyMargin = orNone(*p / 100)
	}
	if p := s.LatencyMarginMs; p != nil {
		cfg.LatencyMarginAbs = time.Duration(orNone(*p * float64(time.Millisecond)))
	}
	if n := s.WarmUpRequests; n != nil {
		cfg.WarmUpRequests = int(orNone(float64(*n)))
	}
	if p := s.WarmUpSeconds; p != nil {
		cfg.WarmUp = time.Duration(orNone(*p * float64(time.Second)))
	}
	for _, name := range s.Disabled {
		var t analysis.Trigger
		if err := t.UnmarshalText([]byte(name)); err != nil {
			return cfg, fmt.Errorf("spec.analysis.disabled: %w", err)
		}
		cfg.Disabled = append(cfg.Disabled, t)
	}
	return cfg, nil
}

// analyze feeds the analysis one more interval of r's traffic and
// instances, at most once a second, and returns its verdict. ok is false
// when no new observation was made (too soon). likeForLike: the baseline
// is the stable revision's baseline group (GroupBaseline), not its
// primary instances.
func (e *Engine) analyze(ctx context.Context, r Rollout, target Revision, instances []Instance, now time.Time, likeForLike bool) (v analysis.Verdict, ok bool, err error) {
	e.cache.Lock()
	run := e.analyses[r.ID]
	e.cache.Unlock()
	if run == nil {
		cfg, err := analysisConfig(target.Spec.Analysis)
		if err != nil {
			return v, false, err
		}
		an, counters, err := e.restoreAnalysis(ctx, r.ID, cfg)
		if err != nil {
			return v, false, fmt.Errorf("analysis: %w", err)
		}
		run = &analysisRun{an: an, everReady: map[string]bool{}, result: AnalysisResult{Message: "starting", Judging: true}, served: now}
		if counters != nil {
			// Continue from the last reading before the restart: what the
			// data plane served meanwhile is the first interval.
			run.prev, run.prevBase = counters.Prev, counters.Base
		}
		e.cache.Lock()
		e.analyses[r.ID] = run
		e.cache.Unlock()
	}
	for _, in := range instances {
		if in.Ready {
			run.everReady[in.ID] = true
		}
	}
	if !run.lastAt.IsZero() && now.Sub(run.lastAt) < time.Second {
		return v, false, nil
	}
	var cur map[int]RevisionMetrics
	if e.opts.Metrics != nil {
		cur = e.opts.Metrics.RevisionMetrics(r.App, r.Env)
	}
	base, baseGroup := cur[r.FromRevision], GroupPrimary
	if gm, ok := e.opts.Metrics.(GroupMetricSource); ok && likeForLike {
		base, baseGroup = gm.GroupMetrics(r.App, r.Env, GroupBaseline)[r.FromRevision], GroupBaseline
	}
	first := run.prev == nil
	obs := analysis.Observation{
		At:                now,
		Step:              r.Step,
		Baseline:          window(base, run.prevBase),
		Canary:            window(cur[r.ToRevision], run.prev[r.ToRevision]),
		CanaryInstances:   groupInstances(instances, target, GroupPrimary, run.everReady),
		BaselineInstances: groupInstances(instances, Revision{Number: r.FromRevision}, baseGroup, run.everReady),
	}
	if baseGroup != GroupPrimary {
		// Errors are compared with every stable instance (Observation.ErrorBaseline).
		all := window(cur[r.FromRevision], run.prev[r.FromRevision])
		all.Requests += obs.Baseline.Requests
		all.Errors += obs.Baseline.Errors
		all.Latency = nil
		obs.ErrorBaseline = &all
	}
	if cur == nil {
		cur = map[int]RevisionMetrics{}
	}
	run.prev, run.prevBase, run.lastAt = cur, base, now
	if first {
		// The first sample only sets the origin of the counters.
		obs.Baseline, obs.Canary, obs.ErrorBaseline = analysis.Window{}, analysis.Window{}, nil
	}
	if obs.Canary.Requests > 0 {
		run.served = now
	}
	v = run.an.Observe(obs)
	if e.opts.OnVerdict != nil {
		e.opts.OnVerdict(r.App, r.Env, v)
	}
	e.keepLive(r.ID, run, obs, v)
	e.saveAnalysis(ctx, r.ID, run)
	run.result = AnalysisResult{Promote: v.Action == analysis.Promote, Message: verdictMessage(v), Judging: true,
		Idle: now.Sub(run.served) >= IdleAfter}
	return v, true, nil
}

// AnalysisStateStore keeps each rollout's analysis evidence (an
// analysis.State as JSON), so that a restart of gantry or a change of
// leader continues the rollout's tests instead of starting new ones. The
// engine uses Options.AnalysisStates, or its Store when that implements
// it (store/sqlite and store/postgres do); otherwise the evidence lives in
// memory only.
type AnalysisStateStore interface {
	// PutAnalysisState stores rollout rolloutID's evidence, replacing any.
	PutAnalysisState(ctx context.Context, rolloutID int64, state []byte) error
	// GetAnalysisState returns it; ErrNotFound when none was stored.
	GetAnalysisState(ctx context.Context, rolloutID int64) ([]byte, error)
}

// storedAnalysis is what the engine keeps of a rollout's analysis: the
// evidence and the counters of the last reading, so that after a restart
// the first reading counts what the data plane served while gantry was
// down (the counters' Origin tells whether it restarted too) instead of
// only setting a new starting point. Evidence stored without counters
// (by an older gantry) still restores.
type storedAnalysis struct {
	analysis.State
	Counters *storedCounters `json:"counters,omitempty"`
}

// storedCounters are an analysisRun's prev and prevBase.
type storedCounters struct {
	Prev map[int]RevisionMetrics `json:"prev"`
	Base RevisionMetrics         `json:"base"`
}

// restoreAnalysis returns the analyzer of rollout id: the stored evidence
// when there is any that fits cfg, with the counters of its last reading
// (nil when none were stored), otherwise a new analyzer. Evidence that
// cannot be read is logged and a new test begins, which stays valid.
func (e *Engine) restoreAnalysis(ctx context.Context, id int64, cfg analysis.Config) (*analysis.Analyzer, *storedCounters, error) {
	if st := e.analysisStates(); st != nil {
		b, err := st.GetAnalysisState(ctx, id)
		switch {
		case err == nil:
			var s storedAnalysis
			if err := json.Unmarshal(b, &s); err != nil {
				e.opts.Logf("rollout %d: stored analysis unreadable, starting a new test: %v", id, err)
				break
			}
			an, err := analysis.Restore(cfg, s.State)
			if err != nil {
				e.opts.Logf("rollout %d: stored analysis does not fit, starting a new test: %v", id, err)
				break
			}
			return an, s.Counters, nil
		case !errors.Is(err, ErrNotFound):
			e.opts.Logf("rollout %d: read stored analysis, starting a new test: %v", id, err)
		}
	}
	an, err := analysis.New(cfg)
	return an, nil, err
}

// analysisStates is where the evidence is kept; nil: in memory only.
func (e *Engine) analysisStates() AnalysisStateStore {
	if e.opts.AnalysisStates != nil {
		return e.opts.AnalysisStates
	}
	st, _ := e.opts.Store.(AnalysisStateStore)
	return st
}

// saveAnalysis stores run's evidence and last counters when the store
// keeps them; a failure is logged, and the next observation tries again.
func (e *Engine) saveAnalysis(ctx context.Context, id int64, run *analysisRun) {
	st := e.analysisStates()
	if st == nil {
		return
	}
	b, err := json.Marshal(storedAnalysis{State: run.an.State(), Counters: &storedCounters{Prev: run.prev, Base: run.prevBase}})
	if err == nil {
		err = st.PutAnalysisState(ctx, id, b)
	}
	if err != nil {
		e.opts.Logf("rollout %d: store analysis: %v", id, err)
	}
}

// window is the difference of two cumulative samples as one interval.
func window(cur, prev RevisionMetrics) analysis.Window {
	if cur.Requests < prev.Requests || cur.Origin != prev.Origin { // counters restarted
		prev = RevisionMetrics{}
	}
	w := analysis.Window{
		Requests: sub(cur.Requests, prev.Requests) - min(sub(cur.Requests, prev.Requests), sub(cur.ClientClosed, prev.ClientClosed)),
		Errors:   sub(cur.Errors, prev.Errors),
	}
	if len(cur.LatencyCounts) > 0 && len(cur.LatencyBounds) == len(cur.LatencyCounts) {
		counts := make([]uint64, len(cur.LatencyCounts))
		for i, c := range cur.LatencyCounts {
			if i < len(prev.LatencyCounts) {
				c = sub(c, prev.LatencyCounts[i])
			}
			counts[i] = c
		}
		w.Latency = analysis.Buckets{UpperBounds: cur.LatencyBounds, Counts: counts}
	}
	return w
}

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// groupInstances summarizes one group of a revision's instances for the analysis. An
// instance counts as unhealthy when it served once (was ready) and then
// lost readiness or crashed; one still starting up is not unhealthy, and
// one that crashes before it is ever ready is a crash loop (CheckHealth).
func groupInstances(instances []Instance, target Revision, group string, everReady map[string]bool) analysis.Instances {
	limits := target.Spec.Resources.Limits.Parsed()
	out := analysis.Instances{MemLimitBytes: limits.MemoryBytes, CPULimitMillis: limits.CPUMillis}
	deps := map[string]string{} // failing dependency -> what one instance said
	for _, in := range instances {
		if in.Revision != target.Number || in.Group != group || in.State == Terminating {
			continue
		}
		out.Total++
		if everReady[in.ID] && (!in.Ready || in.State == BackingOff) {
			out.Unhealthy++
		}
		if in.Ready && in.State == Running {
			out.Ready++
			if in.ReadySince.After(out.NewestReady) {
				out.NewestReady = in.ReadySince
			}
		}
		out.MaxRSSBytes = max(out.MaxRSSBytes, in.RSSBytes)
		out.MaxCPUMillis = max(out.MaxCPUMillis, in.CPUMillis)
		if in.Health != "" {
			out.HealthReported++
		}
		for _, d := range failingDependencies(in.Health) {
			if _, seen := deps[d.name]; !seen {
				deps[d.name] = d.output
			}
		}
	}
	for name, output := range deps {
		if output != "" {
			name += " (" + output + ")"
		}
		out.DependencyFailures = append(out.DependencyFailures, name)
	}
	sort.Strings(out.DependencyFailures)
	return out
}

// dependency is one failing check of a health+json body.
type dependency struct{ name, output string }

// failingDependencies reads an application/health+json body and returns
// each check whose status is "fail", with its output.
func failingDependencies(body string) []dependency {
	if body == "" || body[0] != '{' {
		return nil
	}
	var doc struct {
		Checks map[string][]struct {
			Status string `json:"status"`
			Output string `json:"output"`
		} `json:"checks"`
	}
	if json.Unmarshal([]byte(body), &doc) != nil {
		return nil
	}
	var out []dependency
	for name, checks := range doc.Checks {
		for _, c := range checks {
			if c.Status == "fail" {
				out = append(out, dependency{name, c.Output})
				break
			}
		}
	}
	return out
}

// verdictMessage joins a verdict's reasons into one line.
func verdictMessage(v analysis.Verdict) string {
	if len(v.Reasons) == 0 {
		return strings.ToLower(v.Action.String())
	}
	parts := make([]string, 0, len(v.Reasons))
	for i, r := range v.Reasons {
		if i == 0 && v.Action == analysis.Rollback {
			// The rollout's reason names the first trigger already.
			parts = append(parts, r.Message)
			continue
		}
		parts = append(parts, r.String())
	}
	return strings.Join(parts, "; ")
}
