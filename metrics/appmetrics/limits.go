package appmetrics

import (
	"fmt"
	"math"

	dto "github.com/prometheus/client_model/go"
)

// RefusalReason says which bound an instance's exposition broke.
type RefusalReason string

// The reasons an exposition is refused.
const (
	// TooManySeries: more series than Config.SeriesLimit.
	TooManySeries RefusalReason = "TooManySeries"
	// TooManyLabelValues: a label of one metric took more values than
	// Config.LabelValueLimit (an unbounded label such as a user ID).
	TooManyLabelValues RefusalReason = "TooManyLabelValues"
	// BodyTooLarge: a body over MaxBodyBytes, refused unparsed.
	BodyTooLarge RefusalReason = "BodyTooLarge"
)

// Refusal is a bounded exposition refused whole: none of its series is
// exposed. It is an error; errors.As finds it.
type Refusal struct {
	Reason RefusalReason
	// Count is what was found: series (TooManySeries), values of Label
	// (TooManyLabelValues) or bytes read before giving up (BodyTooLarge).
	Count int
	// Limit is the bound Count broke.
	Limit int
	// Series is how many series the exposition had, the number dropped;
	// 0 for BodyTooLarge (not parsed).
	Series int
	// Metric and Label name the unbounded label (TooManyLabelValues).
	Metric, Label string
}

// Error says what was refused and how to fix it.
func (r *Refusal) Error() string {
	switch r.Reason {
	case TooManySeries:
		return fmt.Sprintf("%d series, over the limit of %d (spec.metrics.scrape.seriesLimit): nothing of this scrape is kept; export fewer series or raise the limit", r.Count, r.Limit)
	case TooManyLabelValues:
		return fmt.Sprintf("label %s of metric %s has %d values, over the limit of %d (spec.metrics.scrape.labelValueLimit): an unbounded label, nothing of this scrape is kept; drop the label or bound its values", r.Label, r.Metric, r.Count, r.Limit)
	default:
		return fmt.Sprintf("body over %d bytes: nothing of this scrape is kept", r.Limit)
	}
}

// Bound counts the series of fams as Prometheus stores them (a counter,
// gauge or untyped value is one; a histogram one per bucket plus +Inf,
// _sum and _count; a summary one per quantile plus _sum and _count) and
// checks them against c's limits: the series, then each label's values
// per metric. It returns the count and, if a bound is broken, why.
func Bound(fams []*dto.MetricFamily, c Config) (int, *Refusal) {
	c = c.WithDefaults()
	series := 0
	for _, mf := range fams {
		for _, m := range mf.GetMetric() {
			series += seriesOf(m)
		}
	}
	if series > c.SeriesLimit {
		return series, &Refusal{Reason: TooManySeries, Count: series, Limit: c.SeriesLimit, Series: series}
	}
	for _, mf := range fams {
		values := map[string]map[string]struct{}{}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				vs := values[lp.GetName()]
				if vs == nil {
					vs = map[string]struct{}{}
					values[lp.GetName()] = vs
				}
				vs[lp.GetValue()] = struct{}{}
				if len(vs) > c.LabelValueLimit {
					return series, &Refusal{Reason: TooManyLabelValues, Count: countValues(mf, lp.GetName()), Limit: c.LabelValueLimit,
						Series: series, Metric: mf.GetName(), Label: lp.GetName()}
				}
			}
		}
	}
	return series, nil
}

// seriesOf is how many series m is once flattened.
func seriesOf(m *dto.Metric) int {
	switch {
	case m.Histogram != nil:
		b := m.Histogram.GetBucket()
		if n := len(b); n > 0 && math.IsInf(b[n-1].GetUpperBound(), +1) {
			return n + 2 // the +Inf bucket is listed
		}
		return len(b) + 3
	case m.Summary != nil:
		return len(m.Summary.GetQuantile()) + 2
	default:
		return 1
	}
}

// countValues counts the distinct values of label in mf.
func countValues(mf *dto.MetricFamily, label string) int {
	vs := map[string]struct{}{}
	for _, m := range mf.GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == label {
				vs[lp.GetValue()] = struct{}{}
			}
		}
	}
	return len(vs)
}
