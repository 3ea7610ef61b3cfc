package server

import (
	"github.com/prometheus/client_golang/prometheus"
)

var (
	notificationsDesc = prometheus.NewDesc("gantry_notifications_total",
		"Notifications (alerts and rollout events) per receiver, by result: sent (accepted by the receiver), failed (given up after retries or refused) or dropped (queue full).",
		[]string{"receiver", "result"}, nil)
	notificationRetriesDesc = prometheus.NewDesc("gantry_notification_retries_total",
		"Delivery attempts after a first one, per receiver.", []string{"receiver"}, nil)
	checkMeasurementsDesc = prometheus.NewDesc("gantry_query_check_measurements_total",
		"Measurements of the user-defined PromQL checks of spec.analysis.checks, by app, env, check and outcome (passed, failed, no data, error).",
		[]string{"app", "env", "check", "outcome"}, nil)
)

// monitoringCollector reports, at scrape time, the notifier's delivery
// counts per receiver and the user-defined checks' measurements.
type monitoringCollector struct{ s *Server }

// Describe implements prometheus.Collector.
func (c monitoringCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- notificationsDesc
	ch <- notificationRetriesDesc
	ch <- checkMeasurementsDesc
	ch <- historySeriesDesc
	ch <- historyMaxSeriesDesc
	ch <- historySamplesDesc
	ch <- historyDroppedDesc
}

// Collect implements prometheus.Collector.
func (c monitoringCollector) Collect(ch chan<- prometheus.Metric) {
	if n := c.s.notifier; n != nil {
		for name, st := range n.Stats() {
			for _, r := range []struct {
				result string
				n      uint64
			}{{"sent", st.Sent}, {"failed", st.Failed}, {"dropped", st.Dropped}} {
				ch <- prometheus.MustNewConstMetric(notificationsDesc, prometheus.CounterValue, float64(r.n), name, r.result)
			}
			ch <- prometheus.MustNewConstMetric(notificationRetriesDesc, prometheus.CounterValue, float64(st.Retries), name)
		}
	}
	c.s.collectHistory(ch)
	if qc := c.s.checks; qc != nil {
		qc.mu.Lock()
		defer qc.mu.Unlock()
		for k, n := range qc.counts {
			ch <- prometheus.MustNewConstMetric(checkMeasurementsDesc, prometheus.CounterValue, float64(n), k.app, k.env, k.check, k.outcome.String())
		}
	}
}
