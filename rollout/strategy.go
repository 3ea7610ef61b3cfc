package rollout

import (
	"context"
	"time"

	"github.com/gantry-dev/gantry/spec"
)

// Strategy plans the next move of a rollout from what is running now, and
// describes itself, so that the engine, the router and status displays
// never need to know a strategy by name. Both methods are pure functions
// of their input: no I/O, no clock (Now comes in the input).
// Implementations live in package strategy, one file per strategy.
type Strategy interface {
	// Describe says what a rollout of a revision with spec s consists of.
	Describe(s spec.AppSpec) Description
	// Plan says what to run and how to split traffic now.
	Plan(in PlanInput) Plan
}

// Description is what a strategy says of itself for one spec.
type Description struct {
	// Steps names the rollout's steps in order, as Rollout.Step counts them
	// from 0, such as "setWeight 20%" or "scale-down delay". The last is the
	// step a full promotion (gantry rollout promote --full) jumps to: from
	// it the new revision takes everything. Empty: one step.
	Steps []string
	// Analysis: the engine judges the new revision against the stable one
	// while the rollout runs (package analysis), rolls back on its verdict
	// and gives the strategy its result (PlanInput.Analysis); a step may
	// then hold for evidence with all its instances up, which the progress
	// deadline does not count as stuck. False: only instance health is
	// judged (crash loops, the progress deadline).
	Analysis bool
	// Preview: the environment needs a preview listener that serves the
	// revision a Plan names in Traffic.Preview before it takes traffic.
	Preview bool
	// PreviewListen is the preview listener's address (host:port) when
	// Preview is set; empty: a free loopback port.
	PreviewListen string
	// Baseline: the strategy runs a like-for-like baseline (Plan.Baseline)
	// and the analysis compares the target with it instead of with the
	// stable revision's primary instances, where the backend and the
	// metric source can keep the group apart (GroupBackend,
	// GroupMetricSource).
	Baseline bool
}

// LastStep is the index of the step a full promotion jumps to.
func (d Description) LastStep() int { return max(len(d.Steps)-1, 0) }

// PlanInput is what a strategy sees on each engine tick.
type PlanInput struct {
	Now time.Time
	// Spec is the target revision's resolved spec (replicas, surge, steps, ...).
	Spec spec.AppSpec
	// Target is the revision being moved to; Stable the one being replaced
	// (0: none). While rolling back, Target is the stable revision being
	// restored and Stable the revision being removed.
	Target, Stable int
	// Step and StepStartedAt are the rollout's stored step state.
	Step          int
	StepStartedAt time.Time
	// WatchedSince is when the engine began watching the current step
	// with the new revision's instances as they are: the latest of
	// StepStartedAt, the moment this engine started (a server that takes
	// over has seen nothing of what happened before) and the last start
	// or restart of an instance of the target. A step that waits to
	// observe the new revision (a timed pause, the blue-green scale-down
	// delay) counts from it, so that a restart or a crash never turns
	// time nobody watched into a promotion. Zero: StepStartedAt.
	WatchedSince time.Time
	// TargetExited says an instance of the new revision exited during the
	// current step (before or after a restart of gantry): the step has
	// seen the revision fail, so a watched step needs twice its time from
	// WatchedSince; an instance that crashes as often as the step lasts
	// never passes it.
	TargetExited bool
	// Revisions counts the primary instances of every revision that has any.
	Revisions []RevisionCount
	// Baseline counts the stable revision's baseline group (GroupBaseline).
	Baseline RevisionCount
	// Analysis is the latest analysis of the target (canary and blue-green
	// rollouts). A verdict to roll back never reaches a strategy: the engine
	// rolls back first.
	Analysis AnalysisResult
}

// Watched returns how long the current step has been watched at Now (see
// WatchedSince), halved when TargetExited.
func (in PlanInput) Watched() time.Duration {
	since := in.StepStartedAt
	if in.WatchedSince.After(since) {
		since = in.WatchedSince
	}
	if in.TargetExited {
		return in.Now.Sub(since) / 2
	}
	return in.Now.Sub(since)
}

// AnalysisResult is what a strategy needs of the analysis.
type AnalysisResult struct {
	// Promote: there is evidence the target is not worse than the stable
	// revision in the current step.
	Promote bool
	// Message says what the analysis is waiting for ("need ≥ 500 canary
	// requests, have 212"), or what it found.
	Message string
	// Judging: an analysis runs for this rollout; false while rolling
	// back, when nothing is judged.
	Judging bool
	// Idle: the target served no request for IdleAfter, so no evidence is
	// coming; a strategy that waits for Promote only as a safeguard (a
	// rolling update) need not wait.
	Idle bool
}

// IdleAfter is how long the target must go without a request before the
// analysis reports it Idle.
const IdleAfter = 3 * time.Second

// RevisionCount counts one revision's instances, ignoring terminating ones.
type RevisionCount struct {
	Revision int
	// Total counts instances that are not terminating; Ready those passing
	// readiness; Available those ready for at least minReadySeconds.
	Total, Ready, Available int
}

// Count returns the counts for revision n (zero when it has no instances).
func (in PlanInput) Count(n int) RevisionCount {
	for _, c := range in.Revisions {
		if c.Revision == n {
			return c
		}
	}
	return RevisionCount{Revision: n}
}

// Plan is a strategy's answer: how many instances each revision should have,
// how traffic is split, and whether the rollout is complete.
type Plan struct {
	// Replicas maps a revision to its desired count of primary instances.
	// Revisions not listed are scaled to zero.
	Replicas map[int]int
	// Baseline is the desired count of the stable revision's baseline
	// group (GroupBaseline): fresh instances the analysis compares the
	// target with. Zero: none; the engine stops any.
	Baseline int
	// Traffic is the split to apply.
	Traffic Traffic
	// Step is the step the rollout should record (unchanged for strategies
	// without steps).
	Step int
	// Complete: the target serves alone and the rollout can finish.
	Complete bool
	// Message says what the rollout is waiting for, for status displays.
	Message string
	// Pause asks the engine to pause the rollout until someone promotes or
	// resumes it (an Argo-style pause step without a duration).
	Pause bool
	// SmokeTests asks the engine to run the spec's smoke tests against the
	// preview listener now; when they pass, the engine moves to Step+1.
	SmokeTests bool
	// SetFlag asks the engine to set a feature flag's rollout percentage
	// now (a canary's setFlag step); once set, the engine moves to Step+1.
	// nil: none.
	SetFlag *FlagSetting
}

// FlagSetting is a feature flag's rollout percentage a step sets.
type FlagSetting struct {
	Name       string
	Percentage float64
}

// FlagSetter sets feature flags for setFlag steps. The server implements
// it over its flag catalog.
type FlagSetter interface {
	// SetFlag sets flag name's rollout percentage in r's environment on
	// behalf of rollout r.
	SetFlag(ctx context.Context, r Rollout, name string, percentage float64) error
	// RestoreFlags returns every flag rollout r set, and nobody changed
	// since, to its value before r, and names the flags it restored; it is
	// called on every reconcile of a rollback, so it must do nothing the
	// second time.
	RestoreFlags(ctx context.Context, r Rollout) ([]string, error)
}
