package pipeline

import (
	"fmt"
	"time"

	"github.com/gantry-dev/gantry/gate"
	"github.com/gantry-dev/gantry/spec"
)

// RunState is where a pipeline run is.
type RunState string

// The run states. Running is the only one that is not final.
const (
	RunRunning   RunState = "Running"
	RunSucceeded RunState = "Succeeded"
	RunFailed    RunState = "Failed"
	RunCancelled RunState = "Cancelled"
)

// Final says whether the run has ended.
func (s RunState) Final() bool { return s != RunRunning }

// StageKind is what a stage does.
type StageKind string

// The stage kinds, in the order they appear within one environment.
const (
	// StageApproval waits until the version's approvals satisfy the
	// environment's policy.approval.
	StageApproval StageKind = "approval"
	// StageDeploy checks the gates and deploys; it ends when the rollout
	// succeeded or, for a blue-green release held for promotion, when the
	// new revision waits on its preview after its smoke tests.
	StageDeploy StageKind = "deploy"
	// StageSmoke reports the rollout's smoke tests (blue-green).
	StageSmoke StageKind = "smoke"
	// StagePerf runs the performance test against the preview.
	StagePerf StageKind = "perf"
	// StagePromote switches traffic to the new revision and waits until
	// the rollout succeeded.
	StagePromote StageKind = "promote"
)

// StageStatus is a stage's outcome so far.
type StageStatus string

// The stage statuses.
const (
	StagePending StageStatus = "Pending"
	StageRunning StageStatus = "Running"
	StagePassed  StageStatus = "Passed"
	StageFailed  StageStatus = "Failed"
	StageSkipped StageStatus = "Skipped"
)

// Stage is one step of a run.
type Stage struct {
	Env    string      `json:"env"`
	Kind   StageKind   `json:"kind"`
	Status StageStatus `json:"status"`
	// Reason says why the stage passed, failed or waits.
	Reason string `json:"reason,omitempty"`
	// Actor is who acted: the run's requester, or the approvers.
	Actor      string    `json:"actor,omitempty"`
	StartedAt  time.Time `json:"startedAt,omitzero"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
	// RolloutID is the deploy's rollout (deploy, smoke, perf, promote).
	RolloutID int64 `json:"rolloutId,omitempty"`
	// Checklist is the deploy's gate results.
	Checklist gate.Checklist `json:"checklist,omitempty"`
	// Perf is the performance test's measurement.
	Perf *PerfResult `json:"perf,omitempty"`
}

// Name is "staging/deploy".
func (s Stage) Name() string { return s.Env + "/" + string(s.Kind) }

// Duration is how long the stage ran; 0 while it has not finished.
func (s Stage) Duration() time.Duration {
	if s.StartedAt.IsZero() || s.FinishedAt.IsZero() {
		return 0
	}
	return s.FinishedAt.Sub(s.StartedAt)
}

// PerfResult is one performance test: p95 latencies in milliseconds.
type PerfResult struct {
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	NewP95Ms    float64 `json:"newP95Ms"`
	StableP95Ms float64 `json:"stableP95Ms"`
	// Ratio is NewP95Ms / StableP95Ms; 0 when there was no stable revision.
	Ratio    float64 `json:"ratio"`
	MaxRatio float64 `json:"maxRatio"`
}

// Run is one pipeline run of a version through an app's environments.
type Run struct {
	ID      int64    `json:"id"`
	App     string   `json:"app"`
	Version string   `json:"version"`
	Actor   string   `json:"actor"`
	State   RunState `json:"state"`
	// Reason says why the run ended (the failing stage's reason).
	Reason string  `json:"reason,omitempty"`
	Stages []Stage `json:"stages"`
	// Override is the emergency override's reason given to every deploy
	// of the run; empty: none.
	Override   string    `json:"override,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
}

// Current returns the index of the first stage not yet passed or
// skipped; len(Stages) when all are.
func (r Run) Current() int {
	for i, s := range r.Stages {
		if s.Status != StagePassed && s.Status != StageSkipped {
			return i
		}
	}
	return len(r.Stages)
}

// Plan lays out a run's stages for app: per environment, in order, an
// approval when its policy sets one (or, without one, when
// defaultApproval(env) says so: the server's four-eyes default for
// production; nil: never), the deploy, the smoke tests when its
// strategy is blue-green with smoke tests, the perf test when its policy
// sets one, and the promote when a blue-green release waits for it.
func Plan(app *spec.App, defaultApproval func(env string) bool) ([]Stage, error) {
	var stages []Stage
	for _, e := range app.Environments {
		add := func(k StageKind) { stages = append(stages, Stage{Env: e.Name, Kind: k, Status: StagePending}) }
		s, err := app.Resolve(e.Name)
		if err != nil {
			return nil, fmt.Errorf("plan pipeline: %w", err)
		}
		if e.Policy != nil && e.Policy.Approval != nil || defaultApproval != nil && defaultApproval(e.Name) {
			add(StageApproval)
		}
		add(StageDeploy)
		bg := s.Strategy.BlueGreen
		if s.StrategyType() == spec.BlueGreen && bg != nil && len(bg.SmokeTests) > 0 {
			add(StageSmoke)
		}
		if e.Policy != nil && e.Policy.PerfTest != nil {
			add(StagePerf)
		}
		if s.StrategyType() == spec.BlueGreen && bg != nil && !bg.AutoPromote() {
			add(StagePromote)
		}
	}
	return stages, nil
}
