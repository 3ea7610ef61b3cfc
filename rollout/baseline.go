package rollout

import (
	"context"
	"fmt"
	"time"

	"github.com/gantry-dev/gantry/spec"
)

// GroupMetricSource is a MetricSource that also counts a revision's
// groups apart (the like-for-like baseline). RevisionMetrics then
// reports primary instances only.
type GroupMetricSource interface {
	MetricSource
	// GroupMetrics returns the cumulative counters of group's instances,
	// by revision; GroupMetrics(app, env, GroupPrimary) is
	// RevisionMetrics(app, env).
	GroupMetrics(app, env, group string) map[int]RevisionMetrics
}

// scaleKey names a group of one revision's instances in one environment.
type scaleKey struct {
	revision int
	group    string
}

// groupKey is scaleKey with the app and environment.
type groupKey struct {
	revisionKey
	group string
}

// groupSuffix names a group after a revision in messages: "" for the
// primary group, " baseline" for the baseline.
func groupSuffix(group string) string {
	if group == GroupPrimary {
		return ""
	}
	return " " + group
}

// scale sets the count of rev's instances in group.
func (e *Engine) scale(ctx context.Context, rev Revision, group string, replicas int) error {
	if group == GroupPrimary {
		return e.opts.Backend.Scale(ctx, rev, replicas)
	}
	gb, ok := e.opts.Backend.(GroupBackend)
	if !ok {
		if replicas == 0 {
			return nil
		}
		return fmt.Errorf("this backend runs no %s group", group)
	}
	return gb.ScaleGroup(ctx, rev, group, replicas)
}

// BaselineFallback says why the analysis of a canary compares it with
// the stable revision's primary instances although its spec asks for a
// like-for-like baseline (the default): the backend or the metric source
// cannot keep a baseline group apart. Event BaselinePrimary carries it
// (Details.Baseline), and the rollout's status message says it.
type BaselineFallback struct {
	// Wanted is the spec's analysis.baseline (spec.BaselineLikeForLike);
	// Used is what the analysis compares with (spec.BaselinePrimary).
	Wanted string `json:"wanted"`
	Used   string `json:"used"`
	// Cause is why: FallbackBackend or FallbackMetrics.
	Cause string `json:"cause"`
}

// The causes of a BaselineFallback.
const (
	// FallbackBackend: the environment's backend runs no second group of
	// a revision's instances (GroupBackend), such as the Kubernetes backend.
	FallbackBackend = "BackendRunsNoBaseline"
	// FallbackMetrics: the metric source cannot count a revision's groups
	// apart (GroupMetricSource), such as an external Prometheus.
	FallbackMetrics = "MetricsCountNoBaseline"
)

// Message says the fallback in a sentence.
func (f BaselineFallback) Message() string {
	why := "the metric source cannot count a baseline group apart"
	if f.Cause == FallbackBackend {
		why = "the backend runs no baseline group"
	}
	return fmt.Sprintf("baseline: the stable revision's primary instances, not a like-for-like baseline (%s)", why)
}

// baselineFallback returns why the engine cannot run a like-for-like
// baseline in app's env; nil: it can.
func (e *Engine) baselineFallback(app, env string) *BaselineFallback {
	f := &BaselineFallback{Wanted: spec.BaselineLikeForLike, Used: spec.BaselinePrimary}
	if gb, ok := e.opts.Backend.(GroupBackend); !ok || !gb.RunsGroups(app, env) {
		f.Cause = FallbackBackend
		return f
	}
	if _, ok := e.opts.Metrics.(GroupMetricSource); !ok {
		f.Cause = FallbackMetrics
		return f
	}
	return nil
}

// effectiveSpec is the spec a strategy plans with: s, or, where the
// engine cannot run a like-for-like baseline, s with
// analysis.baseline: primary, so that the strategy asks for none; then
// fallback says why.
func (e *Engine) effectiveSpec(app, env string, s spec.AppSpec) (_ spec.AppSpec, fallback *BaselineFallback) {
	if !s.Analysis.LikeForLike() {
		return s, nil
	}
	if fallback = e.baselineFallback(app, env); fallback == nil {
		return s, nil
	}
	a := spec.AnalysisSpec{}
	if s.Analysis != nil {
		a = *s.Analysis
	}
	a.Baseline = spec.BaselinePrimary
	s.Analysis = &a
	return s, fallback
}

// noteFallback records event BaselinePrimary once per analysis of rollout
// r (again after a restart of gantry), and returns the status message's
// prefix; "" when there is no fallback.
func (e *Engine) noteFallback(ctx context.Context, r Rollout, f *BaselineFallback) string {
	if f == nil {
		return ""
	}
	e.cache.Lock()
	run := e.analyses[r.ID]
	first := run != nil && !run.fallbackNoted
	if first {
		run.fallbackNoted = true
	}
	e.cache.Unlock()
	if first {
		e.record(ctx, r, 0, 0, fact{Type: Normal, Reason: ReasonBaselinePrimary, Message: f.Message(), Details: &Details{Baseline: f}})
	}
	return f.Message() + "; "
}

// CountGroup counts revision rev's instances in group, ignoring
// terminating ones.
func CountGroup(instances []Instance, rev int, group string, now time.Time, minReady time.Duration) RevisionCount {
	c := RevisionCount{Revision: rev}
	for _, in := range instances {
		if in.Revision != rev || in.Group != group || in.State == Terminating {
			continue
		}
		c.Total++
		if in.Ready && in.State == Running {
			c.Ready++
		}
		if in.Available(now, minReady) {
			c.Available++
		}
	}
	return c
}
