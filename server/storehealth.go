package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-dev/gantry/rollout"
)

// conditions returns an environment's conditions: StoreWriteFailing
// while writes of its state fail.
func (s *Server) conditions(app, env string) []rollout.Condition {
	if c := s.events.Condition(app, env); c != nil {
		return []rollout.Condition{*c}
	}
	return nil
}

var (
	storeEventsDropped = prometheus.NewDesc("gantry_store_events_dropped_total",
		"Events never written to the state store: dropped because the queue of events waiting for a failing store was full, or still waiting at shutdown.", nil, nil)
	storeEventsQueued = prometheus.NewDesc("gantry_store_events_queued",
		"Events waiting to be written to the state store after a failed write.", nil, nil)
)

// storeCollector reports the guarded store's event queue at scrape time.
type storeCollector struct{ events *rollout.GuardedStore }

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- storeEventsDropped
	ch <- storeEventsQueued
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(storeEventsDropped, prometheus.CounterValue, float64(c.events.Dropped()))
	ch <- prometheus.MustNewConstMetric(storeEventsQueued, prometheus.GaugeValue, float64(c.events.Queued()))
}
