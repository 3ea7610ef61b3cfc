package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-dev/gantry/featureflag"
)

// newMetrics returns the handler of GET /metrics, also the Gatherer of
// everything it serves: a registry of its own (no global state), with the
// Go runtime's and the process's collectors, the flag evaluation counters,
// the proxy's and backends' counters (rc, read once per scrape) and the
// extra collectors (the engine's and others', read at scrape time).
func newMetrics(flags *featureflag.Catalog, rc runtimeCollector, extra ...prometheus.Collector) *metricsSource {
	reg := prometheus.NewRegistry()
	src := &metricsSource{reg: reg, read: rc.read}
	rc.src = src
	reg.MustRegister(
		prometheus.NewGoCollector(),
		prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}),
		flagCollector{flags},
		rc,
	)
	reg.MustRegister(extra...)
	return src
}

var flagEvaluations = prometheus.NewDesc("gantry_flag_evaluations_total",
	"Feature flag evaluations served over OFREP, by environment, flag, variant, reason and error code (flag is empty for unknown flags).",
	[]string{"env", "flag", "variant", "reason", "error"}, nil)

// flagCollector reads the catalog's atomic evaluation counters at scrape time.
type flagCollector struct{ flags *featureflag.Catalog }

func (c flagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- flagEvaluations }

func (c flagCollector) Collect(ch chan<- prometheus.Metric) {
	c.flags.Counts.Each(func(k featureflag.CountKey, n uint64) {
		ch <- prometheus.MustNewConstMetric(flagEvaluations, prometheus.CounterValue, float64(n),
			k.Env, k.Flag, k.Variant, string(k.Reason), string(k.Error))
	})
}
