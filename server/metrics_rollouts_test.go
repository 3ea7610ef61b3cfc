package server

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gantry-dev/gantry/analysis"
	"github.com/gantry-dev/gantry/rollout"
)

// histograms returns the step histogram's sample count and sum per
// "step outcome".
func histograms(t *testing.T, c prometheus.Collector) map[string][2]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][2]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			out[labelOf(m, "step")+" "+labelOf(m, "outcome")] = [2]float64{float64(m.GetHistogram().GetSampleCount()), m.GetHistogram().GetSampleSum()}
		}
	}
	return out
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestRolloutMetrics_event(t *testing.T) {
	m := newRolloutMetrics()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ev := func(id int64, sec int, reason rollout.Reason, step int, to rollout.Phase) {
		e := rollout.Event{RolloutID: id, App: "web", Env: "prod", Time: t0.Add(time.Duration(sec) * time.Second), Reason: reason, To: to}
		if step > 0 {
			e.Details = &rollout.Details{Step: step}
		}
		m.event(e)
	}
	ev(1, 0, rollout.ReasonRolloutStarted, 0, 0)
	ev(1, 3, rollout.ReasonStepCompleted, 1, 0)
	ev(1, 10, rollout.ReasonPromoted, 2, 0)
	ev(1, 12, rollout.ReasonRolloutSucceeded, 0, rollout.Succeeded)
	ev(2, 20, rollout.ReasonStepCompleted, 1, 0) // started before this server led: not timed
	ev(2, 25, rollout.ReasonAborted, 0, rollout.RolledBack)
	ev(3, 30, rollout.ReasonPaused, 0, 0) // no step fact: nothing
	got := histograms(t, m.steps)
	want := map[string][2]float64{"0 next": {1, 3}, "1 next": {1, 7}, "2 ended": {1, 2}, "1 ended": {1, 5}}
	if len(got) != len(want) {
		t.Errorf("step histograms %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("step %q: count, sum = %v, want %v", k, got[k], w)
		}
	}
	if len(m.step) != 0 {
		t.Errorf("steps kept for %d rollouts, want none (every rollout seen has ended)", len(m.step))
	}
}

func TestRolloutMetrics_verdict(t *testing.T) {
	m := newRolloutMetrics()
	m.verdict("web", "prod", analysis.Verdict{Action: analysis.Continue, Reasons: []analysis.Reason{{Trigger: analysis.ErrorEvidence}}})
	m.verdict("web", "prod", analysis.Verdict{Action: analysis.Rollback, Reasons: []analysis.Reason{{Trigger: analysis.ErrorTest, Fired: true}, {Trigger: analysis.ErrorRate, Fired: true}}})
	for _, c := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"web", "prod", "Continue"}, 1}, {[]string{"web", "prod", "Rollback"}, 1}, {[]string{"web", "prod", "Promote"}, 0},
	} {
		var d dto.Metric
		if err := m.verdicts.WithLabelValues(c.labels...).Write(&d); err != nil || d.GetCounter().GetValue() != c.want {
			t.Errorf("verdicts %v = %v (%v), want %v", c.labels, d.GetCounter().GetValue(), err, c.want)
		}
	}
	var d dto.Metric
	if _ = m.tests.WithLabelValues("web", "prod", "ErrorTest", "fired").Write(&d); d.GetCounter().GetValue() != 1 {
		t.Errorf("ErrorTest fired = %v, want 1", d.GetCounter().GetValue())
	}
	if _ = m.tests.WithLabelValues("web", "prod", "ErrorEvidence", "pending").Write(&d); d.GetCounter().GetValue() != 1 {
		t.Errorf("ErrorEvidence pending = %v, want 1", d.GetCounter().GetValue())
	}
}
