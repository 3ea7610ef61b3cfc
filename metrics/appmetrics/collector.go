package appmetrics

import (
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

var (
	scrapeLabels = []string{"app", "env", "revision", "version", "instance"}

	scrapeUpDesc = prometheus.NewDesc("gantry_instance_scrape_up",
		"1 when the last scrape of the instance's own metrics (spec.metrics.scrape) was kept, 0 when it failed or was refused.", scrapeLabels, nil)
	scrapeSeriesDesc = prometheus.NewDesc("gantry_instance_scrape_series",
		"Series of the instance's last exposition (each histogram bucket counts), also when it was refused.", scrapeLabels, nil)
	scrapeDurationDesc = prometheus.NewDesc("gantry_instance_scrape_duration_seconds",
		"How long the last scrape of the instance's own metrics took.", scrapeLabels, nil)
)

// Collector returns a prometheus.Collector of s: every target's kept
// series under their own names (with the target labels), and per target
// gantry_instance_scrape_up, _series and _duration_seconds. It is an
// unchecked collector (it describes nothing: the names come from the
// instances). A metric that another target, earlier by app, env, revision
// and instance, exports with another type is left out for this target,
// and all targets' series of a name take the first one's help; a family
// whose flattened names collide with an earlier one's (a histogram h and
// another family h_sum) is left out too: so the registry's consistency
// checks always pass.
func (s *Scraper) Collector() prometheus.Collector { return collector{s} }

type collector struct{ s *Scraper }

// Describe implements prometheus.Collector: nothing (unchecked).
func (collector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	type family struct {
		desc *prometheus.Desc
		typ  dto.MetricType
	}
	byName := map[string]family{}
	for _, ts := range c.s.Targets() {
		t, st := ts.Target, ts.Status
		if st.At.IsZero() {
			continue // not scraped yet
		}
		lv := []string{t.App, t.Env, strconv.Itoa(t.Revision), t.Version, t.Instance}
		up := 0.0
		if st.Err == nil {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(scrapeUpDesc, prometheus.GaugeValue, up, lv...)
		ch <- prometheus.MustNewConstMetric(scrapeSeriesDesc, prometheus.GaugeValue, float64(st.Series), lv...)
		ch <- prometheus.MustNewConstMetric(scrapeDurationDesc, prometheus.GaugeValue, st.Duration.Seconds(), lv...)
		for _, mf := range ts.Families {
			f, ok := byName[mf.GetName()]
			if !ok {
				if suffixCollision(mf, func(name string) (dto.MetricType, bool) {
					g, ok := byName[name]
					return g.typ, ok
				}) {
					continue
				}
				f = family{prometheus.NewDesc(mf.GetName(), mf.GetHelp(), nil, nil), mf.GetType()}
				byName[mf.GetName()] = f
			}
			if f.typ != mf.GetType() {
				continue
			}
			for _, m := range mf.GetMetric() {
				ch <- rawMetric{f.desc, m}
			}
		}
	}
}

// rawMetric is a parsed sample re-exposed as it came (labels already
// set), under desc.
type rawMetric struct {
	desc *prometheus.Desc
	m    *dto.Metric
}

func (r rawMetric) Desc() *prometheus.Desc { return r.desc }

func (r rawMetric) Write(out *dto.Metric) error {
	out.Label, out.Counter, out.Gauge, out.Untyped, out.Summary, out.Histogram =
		r.m.Label, r.m.Counter, r.m.Gauge, r.m.Untyped, r.m.Summary, r.m.Histogram
	return nil
}

// suffixCollision says whether mf collides, as Prometheus's registry
// checks, with a family already taken (typeOf finds one by name): a
// name_count, name_sum or name_bucket beside a summary or histogram name.
func suffixCollision(mf *dto.MetricFamily, typeOf func(name string) (dto.MetricType, bool)) bool {
	name, typ := mf.GetName(), mf.GetType()
	for _, suffix := range []string{"_count", "_sum", "_bucket"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		if t, ok := typeOf(base); ok && (t == dto.MetricType_HISTOGRAM || t == dto.MetricType_SUMMARY && suffix != "_bucket") {
			return true
		}
	}
	if typ != dto.MetricType_HISTOGRAM && typ != dto.MetricType_SUMMARY {
		return false
	}
	for _, suffix := range []string{"_count", "_sum", "_bucket"} {
		if _, ok := typeOf(name + suffix); ok && (typ == dto.MetricType_HISTOGRAM || suffix != "_bucket") {
			return true
		}
	}
	return false
}
