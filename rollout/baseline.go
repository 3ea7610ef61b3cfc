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

// runsBaseline reports whether the engine can run a like-for-like
// baseline in app's env: its backend runs groups there and its metric
// source counts them apart.
func (e *Engine) runsBaseline(app, env string) bool {
	gb, groups := e.opts.Backend.(GroupBackend)
	_, metrics := e.opts.Metrics.(GroupMetricSource)
	return groups && metrics && gb.RunsGroups(app, env)
}

// effectiveSpec is the spec a strategy plans with: s, or, where the
// engine cannot run a like-for-like baseline, s with
// analysis.baseline: primary, so that the strategy asks for none.
func (e *Engine) effectiveSpec(app, env string, s spec.AppSpec) spec.AppSpec {
	if !s.Analysis.LikeForLike() || e.runsBaseline(app, env) {
		return s
	}
	a := spec.AnalysisSpec{}
	if s.Analysis != nil {
		a = *s.Analysis
	}
	a.Baseline = spec.BaselinePrimary
	s.Analysis = &a
	return s
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
