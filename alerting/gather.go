package alerting

import (
	"math"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"
)

// Gather reads every metric of g as samples named the way Prometheus
// names scraped series: counters, gauges and untyped values under their
// name; histograms as _bucket (with le), _sum and _count; summaries with
// quantile, _sum and _count.
func Gather(g prometheus.Gatherer) ([]Sample, error) { return gather(g, nil) }

// gather is Gather of the families whose series sel may keep (nil: all):
// the others are not flattened at all.
func gather(g prometheus.Gatherer, sel *Selection) ([]Sample, error) {
	mfs, err := g.Gather()
	out := make([]Sample, 0, 256)
	for _, mf := range mfs {
		name := mf.GetName()
		if sel != nil && !sel.keepsName(name) && !sel.keepsName(name+"_bucket") && !sel.keepsName(name+"_sum") && !sel.keepsName(name+"_count") {
			continue
		}
		for _, m := range mf.GetMetric() {
			b := labels.NewBuilder(labels.EmptyLabels())
			for _, lp := range m.GetLabel() {
				b.Set(lp.GetName(), lp.GetValue())
			}
			add := func(metric string, v float64, extra ...string) {
				b.Set(labels.MetricName, metric)
				for i := 0; i+1 < len(extra); i += 2 {
					b.Set(extra[i], extra[i+1])
				}
				out = append(out, Sample{Labels: b.Labels(), Value: v})
				for i := 0; i+1 < len(extra); i += 2 {
					b.Del(extra[i])
				}
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				add(name, m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				add(name, m.GetGauge().GetValue())
			case dto.MetricType_UNTYPED:
				add(name, m.GetUntyped().GetValue())
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				h := m.GetHistogram()
				for _, bk := range h.GetBucket() {
					add(name+"_bucket", float64(bk.GetCumulativeCount()), "le", formatFloat(bk.GetUpperBound()))
				}
				add(name+"_bucket", float64(h.GetSampleCount()), "le", "+Inf")
				add(name+"_sum", h.GetSampleSum())
				add(name+"_count", float64(h.GetSampleCount()))
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.GetQuantile() {
					add(name, q.GetValue(), "quantile", formatFloat(q.GetQuantile()))
				}
				add(name+"_sum", s.GetSampleSum())
				add(name+"_count", float64(s.GetSampleCount()))
			}
		}
	}
	return out, err
}

// formatFloat writes a bound the way Prometheus's exposition does.
func formatFloat(f float64) string {
	if math.IsInf(f, +1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
