package rollout

import (
	"context"
	"testing"

	"github.com/gantry-dev/gantry/spec"
)

type plainBackend struct{ Backend }

type groupBackend struct {
	Backend
	runs bool
}

func (g groupBackend) RunsGroups(app, env string) bool { return g.runs }
func (g groupBackend) ScaleGroup(context.Context, Revision, string, int) error {
	return nil
}

type plainMetrics struct{ MetricSource }

type groupMetrics struct{ MetricSource }

func (groupMetrics) GroupMetrics(app, env, group string) map[int]RevisionMetrics { return nil }

// TestEffectiveSpec_saysWhyItFallsBack: a canary whose spec asks for a
// like-for-like baseline falls back to the primary instances only where
// the backend or the metric source cannot keep a group apart, and says
// which.
func TestEffectiveSpec_saysWhyItFallsBack(t *testing.T) {
	primary := spec.AppSpec{Analysis: &spec.AnalysisSpec{Baseline: spec.BaselinePrimary}}
	for _, tc := range []struct {
		name    string
		backend Backend
		metrics MetricSource
		spec    spec.AppSpec
		cause   string // "": no fallback
	}{
		{"groups and group metrics", groupBackend{runs: true}, groupMetrics{}, spec.AppSpec{}, ""},
		{"a backend without groups", plainBackend{}, groupMetrics{}, spec.AppSpec{}, FallbackBackend},
		{"a backend that runs no groups in this environment", groupBackend{runs: false}, groupMetrics{}, spec.AppSpec{}, FallbackBackend},
		{"metrics that cannot count groups apart", groupBackend{runs: true}, plainMetrics{}, spec.AppSpec{}, FallbackMetrics},
		{"no metrics at all", groupBackend{runs: true}, nil, spec.AppSpec{}, FallbackMetrics},
		{"primary asked for", plainBackend{}, plainMetrics{}, primary, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &Engine{opts: Options{Backend: tc.backend, Metrics: tc.metrics}}
			got, f := e.effectiveSpec("web", "prod", tc.spec)
			if tc.cause == "" {
				if f != nil {
					t.Fatalf("fallback %+v, want none", f)
				}
				if got.Analysis.LikeForLike() != tc.spec.Analysis.LikeForLike() {
					t.Errorf("baseline changed to %+v", got.Analysis)
				}
				return
			}
			if f == nil || f.Cause != tc.cause || f.Wanted != spec.BaselineLikeForLike || f.Used != spec.BaselinePrimary {
				t.Fatalf("fallback %+v, want cause %s from likeForLike to primary", f, tc.cause)
			}
			if got.Analysis.LikeForLike() {
				t.Errorf("the plan's spec still asks for a like-for-like baseline")
			}
			if tc.spec.Analysis != nil {
				t.Errorf("the app's own spec was changed")
			}
		})
	}
}
