package server

import (
	"math"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gantry-dev/gantry/proxy"
)

// The label pairs of one revision or route are built once and shared by
// its series (seriesTable), empty label values are left out (Prometheus
// drops empty labels anyway), and a latency histogram is written straight
// from the proxy's buckets (no map, no sort). With 100 apps × 3 revisions
// × 20 routes a scrape writes tens of thousands of series, so their cost
// per series is the scrape's cost.

// labelPairs returns names and values as label pairs sorted by name,
// without the pairs whose value is empty.
func labelPairs(names, values []string) []*dto.LabelPair {
	out := make([]*dto.LabelPair, 0, len(names))
	for i, n := range names {
		if values[i] != "" {
			out = append(out, &dto.LabelPair{Name: &n, Value: &values[i]})
		}
	}
	slices.SortFunc(out, func(a, b *dto.LabelPair) int { return strings.Compare(*a.Name, *b.Name) })
	return out
}

// withLabel returns pairs plus lp, sorted by name, in a new slice (pairs is
// shared by other series).
func withLabel(pairs []*dto.LabelPair, lp *dto.LabelPair) []*dto.LabelPair {
	out := make([]*dto.LabelPair, 0, len(pairs)+1)
	i, _ := slices.BinarySearchFunc(pairs, lp.GetName(), func(p *dto.LabelPair, n string) int { return strings.Compare(*p.Name, n) })
	out = append(append(append(out, pairs[:i]...), lp), pairs[i:]...)
	return out
}

// Native histograms of the proxy's latencies: schema 1 (two buckets per
// doubling, bounds at powers of √2 seconds) and a zero bucket up to 100µs,
// the proxy's first bucket. Each of the proxy's buckets (four per doubling)
// is counted whole in the native bucket holding its geometric middle, so a
// native bucket only grows and a quantile is off by at most one of the
// proxy's buckets (≤ 25%) plus the native bucket's own width.
const (
	nativeSchema        = 1
	nativeZeroThreshold = 100e-6 // seconds: proxy.UpperBound(0)
)

// Shared by every histogram written (never written to).
var (
	histSchema        int32   = nativeSchema
	histZeroThreshold float64 = nativeZeroThreshold
	upperBounds               = func() (out [proxy.HistogramBuckets]float64) {
		for b := range out {
			out[b] = proxy.UpperBound(b).Seconds()
		}
		return out
	}()
)

// nativeIndex is, per proxy bucket (from 1), the index of the native bucket
// it is counted in; the zero bucket takes bucket 0.
var nativeIndex = func() [proxy.HistogramBuckets]int32 {
	var idx [proxy.HistogramBuckets]int32
	scale := math.Exp2(nativeSchema)
	for b := 1; b < proxy.HistogramBuckets; b++ {
		lo := proxy.UpperBound(b - 1).Seconds()
		mid := lo * 1.1 // the overflow bucket: just above its lower bound
		if b < proxy.HistogramBuckets-1 {
			mid = math.Sqrt(lo * proxy.UpperBound(b).Seconds())
		}
		idx[b] = int32(math.Ceil(math.Log2(mid) * scale))
	}
	return idx
}()

// latencyMetric is a histogram of one revision's or route's latencies
// read at scrape time: cumulative classic buckets at the proxy bucket
// indexes of bounds and, for scrapers that negotiate protobuf, the native
// histogram of the same observations. In the text format only the classic
// buckets (and _sum, _count) appear.
type latencyMetric struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	h      *proxy.Histogram
	bounds []int // proxy bucket indexes, ascending
}

// Desc implements prometheus.Metric.
func (m latencyMetric) Desc() *prometheus.Desc { return m.desc }

// Write implements prometheus.Metric.
func (m latencyMetric) Write(out *dto.Metric) error {
	out.Label = m.labels
	h := m.h
	v := &struct { // the values the histogram points to
		count, zero uint64
		sum         float64
	}{zero: h.Counts[0], sum: h.Sum.Seconds()}
	cum := make([]uint64, len(m.bounds))
	classic := make([]dto.Bucket, len(m.bounds))
	ptrs := make([]*dto.Bucket, len(m.bounds))
	next := 0 // m.bounds[next] is the next classic bound
	for b, c := range h.Counts {
		v.count += c
		if next < len(m.bounds) && m.bounds[next] == b {
			cum[next] = v.count
			classic[next] = dto.Bucket{UpperBound: &upperBounds[b], CumulativeCount: &cum[next]}
			ptrs[next] = &classic[next]
			next++
		}
	}
	native, deltas := nativeBuckets(h.Counts[:], nil, nil)
	if len(native) == 0 {
		// An empty native histogram still needs a span to be read as one.
		native = append(native, nativeSpan{})
	}
	spans := make([]*dto.BucketSpan, len(native))
	for i := range native {
		spans[i] = &dto.BucketSpan{Offset: &native[i].offset, Length: &native[i].length}
	}
	out.Histogram = &dto.Histogram{
		SampleCount:   &v.count,
		SampleSum:     &v.sum,
		Bucket:        ptrs,
		Schema:        &histSchema,
		ZeroThreshold: &histZeroThreshold,
		ZeroCount:     &v.zero,
		PositiveSpan:  spans,
		PositiveDelta: deltas,
	}
	return nil
}

// everyNth returns the proxy bucket indexes 0, n, 2n, … below the overflow
// bucket.
func everyNth(n int) []int {
	var out []int
	for b := 0; b < proxy.HistogramBuckets-1; b += n {
		out = append(out, b)
	}
	return out
}
