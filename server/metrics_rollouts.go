package server

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-dev/gantry/analysis"
	"github.com/gantry-dev/gantry/rollout"
)

// rolloutMetrics counts the analysis' verdicts and times rollout steps,
// from typed facts: the verdict of each observation (rollout.Options.OnVerdict)
// and the events the engine stores (step and final transitions).
type rolloutMetrics struct {
	verdicts *prometheus.CounterVec
	tests    *prometheus.CounterVec
	steps    *prometheus.HistogramVec

	mu sync.Mutex
	// step is where each rollout in progress is: its step and since when.
	step map[int64]stepMark
}

// stepMark is a rollout's current step and when it began.
type stepMark struct {
	step  int
	since time.Time
}

func newRolloutMetrics() *rolloutMetrics {
	return &rolloutMetrics{
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gantry_analysis_verdicts_total",
			Help: "Observations of canary and blue-green analysis, by app, env and the verdict: Continue, Hold, Promote or Rollback.",
		}, []string{"app", "env", "verdict"}),
		tests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gantry_analysis_test_results_total",
			Help: "The analysis' findings per observation, by app, env, test (ErrorTest, LatencyTest, ErrorRate, ...) and result: fired (a rollback trigger fired, or evidence was found) or pending (what the test still misses).",
		}, []string{"app", "env", "test", "result"}),
		steps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gantry_rollout_step_duration_seconds",
			Help: "Time a rollout spent at a strategy step (0 from its start to the first step), by app, env, step and outcome: next (the rollout moved on) or ended (it succeeded, was rolled back, aborted or failed there).",
			// 1s .. about 2.3h, one bucket per doubling.
			Buckets:                     prometheus.ExponentialBuckets(1, 2, 14),
			NativeHistogramBucketFactor: 1.1,
		}, []string{"app", "env", "step", "outcome"}),
		step: map[int64]stepMark{},
	}
}

// collectors are what /metrics registers.
func (m *rolloutMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.verdicts, m.tests, m.steps}
}

// verdict counts one observation's verdict and its reasons.
func (m *rolloutMetrics) verdict(app, env string, v analysis.Verdict) {
	m.verdicts.WithLabelValues(app, env, v.Action.String()).Inc()
	for _, r := range v.Reasons {
		result := "pending"
		if r.Fired {
			result = "fired"
		}
		m.tests.WithLabelValues(app, env, r.Trigger.String(), result).Inc()
	}
}

// event times steps from a stored event: RolloutStarted begins step 0,
// StepCompleted and Promoted (Details.Step) end the step and begin the
// next, a final phase ends it. A rollout whose start this server did not
// see (it took the lead later) is timed from its next step.
func (m *rolloutMetrics) event(e rollout.Event) {
	if e.RolloutID == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, known := m.step[e.RolloutID]
	observe := func(outcome string) {
		if known {
			m.steps.WithLabelValues(e.App, e.Env, strconv.Itoa(cur.step), outcome).Observe(e.Time.Sub(cur.since).Seconds())
		}
	}
	switch {
	case e.To.Final():
		observe("ended")
		delete(m.step, e.RolloutID)
	case e.Reason == rollout.ReasonRolloutStarted:
		m.step[e.RolloutID] = stepMark{0, e.Time}
	case (e.Reason == rollout.ReasonStepCompleted || e.Reason == rollout.ReasonPromoted) && e.Details != nil:
		observe("next")
		m.step[e.RolloutID] = stepMark{e.Details.Step, e.Time}
	}
}

// measuredEvents gives every event stored to rolloutMetrics.
type measuredEvents struct {
	rollout.Store
	m *rolloutMetrics
}

var _ rollout.Store = measuredEvents{}

func (s measuredEvents) AppendEvent(ctx context.Context, e rollout.Event) (rollout.Event, error) {
	stored, err := s.Store.AppendEvent(ctx, e)
	if err == nil {
		s.m.event(stored)
	}
	return stored, err
}
