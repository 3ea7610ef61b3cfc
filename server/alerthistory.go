package server

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-dev/gantry/alerting"
	"github.com/gantry-dev/gantry/api"
)

var (
	historySeriesDesc = prometheus.NewDesc("gantry_alerting_history_series",
		"Series the embedded alerting history keeps: those the alert rules and the PromQL checks of rollouts in progress read.", nil, nil)
	historyMaxSeriesDesc = prometheus.NewDesc("gantry_alerting_history_max_series",
		"The cap on gantry_alerting_history_series (--alert-history-max-series).", nil, nil)
	historySamplesDesc = prometheus.NewDesc("gantry_alerting_history_samples",
		"Samples the embedded alerting history keeps, of every series.", nil, nil)
	historyDroppedDesc = prometheus.NewDesc("gantry_alerting_history_dropped_samples_total",
		"Samples of new series the alerting history refused because it kept its cap of series: rules and checks over them see no data.", nil, nil)
)

// newHistory is the alerting history, capped at --alert-history-max-series.
func (s *Server) newHistory() *alerting.History {
	return alerting.NewHistory(0, s.opts.AlertHistoryMaxSeries)
}

// historyEvaluator is the evaluator whose history the checks read: the
// alert rules', else the checks' own.
func (s *Server) historyEvaluator() *alerting.Evaluator {
	if s.checks != nil && s.checks.ev != nil {
		return s.checks.ev
	}
	return s.alerts.ev
}

// selectHistory bounds the history to what the alert rules and the
// checks of runs read (nothing of the checks when they query an
// external Prometheus); runs is locked by the caller.
func (s *Server) selectHistory(runs map[int64]*checkRun) {
	var exprs []string
	if _, external := s.opts.MetricSource.(instantQuerier); !external {
		for _, run := range runs {
			if !run.done {
				exprs = append(exprs, run.exprs...)
			}
		}
	}
	slices.Sort(exprs)
	exprs = slices.Compact(exprs)
	ev := s.historyEvaluator()
	if slices.Equal(exprs, ev.Queries()) {
		return
	}
	if err := ev.SetQueries(exprs); err != nil {
		s.opts.Logf("alerting history: %v", err)
	}
}

// historyStats is the alerting history's stats for the API; nil when
// there is no history.
func (s *Server) historyStats() *api.AlertHistory {
	if s.checks == nil {
		return nil
	}
	st := s.historyEvaluator().History().Stats()
	return &api.AlertHistory{Series: st.Series, MaxSeries: st.MaxSeries, Samples: st.Samples, Bytes: st.Bytes,
		DroppedSamples: st.Dropped, Full: st.Full, FullSince: st.FullSince, UnselectedSamples: st.Unselected}
}

// collectHistory reports the alerting history's size and refusals.
func (s *Server) collectHistory(ch chan<- prometheus.Metric) {
	if s.checks == nil {
		return
	}
	st := s.historyEvaluator().History().Stats()
	ch <- prometheus.MustNewConstMetric(historySeriesDesc, prometheus.GaugeValue, float64(st.Series))
	ch <- prometheus.MustNewConstMetric(historyMaxSeriesDesc, prometheus.GaugeValue, float64(st.MaxSeries))
	ch <- prometheus.MustNewConstMetric(historySamplesDesc, prometheus.GaugeValue, float64(st.Samples))
	ch <- prometheus.MustNewConstMetric(historyDroppedDesc, prometheus.CounterValue, float64(st.Dropped))
}
