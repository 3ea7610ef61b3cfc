package server

import (
	"math"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser/posrange"

	"github.com/gantry-dev/gantry/proxy"
)

// native converts the native part of a written histogram to Prometheus's
// own type, as Prometheus does when it scrapes protobuf.
func native(t *testing.T, h *dto.Histogram) *histogram.Histogram {
	t.Helper()
	out := &histogram.Histogram{
		Schema: h.GetSchema(), ZeroThreshold: h.GetZeroThreshold(), ZeroCount: h.GetZeroCount(),
		Count: h.GetSampleCount(), Sum: h.GetSampleSum(), PositiveBuckets: h.GetPositiveDelta(),
	}
	for _, s := range h.GetPositiveSpan() {
		out.PositiveSpans = append(out.PositiveSpans, histogram.Span{Offset: s.GetOffset(), Length: s.GetLength()})
	}
	if err := out.Validate(); err != nil {
		t.Fatalf("native histogram %v: %v", out, err)
	}
	return out
}

// write returns what latencyMetric writes for h with bounds.
func write(t *testing.T, h proxy.Histogram, bounds []int) *dto.Histogram {
	t.Helper()
	var m dto.Metric
	if err := (latencyMetric{durationFamily.desc, nil, &h, bounds}).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram()
}

func TestLatencyMetric_classicBucketsAndNativeHistogram(t *testing.T) {
	var h proxy.Histogram
	var total uint64
	for i := range h.Counts {
		h.Counts[i] = uint64(i*7%13 + i%3)
		total += h.Counts[i]
		h.Sum += time.Duration(h.Counts[i]) * proxy.UpperBound(min(i, proxy.HistogramBuckets-2))
	}
	got := write(t, h, revisionBounds)
	if got.GetSampleCount() != total || got.GetSampleSum() != h.Sum.Seconds() {
		t.Errorf("count %d, sum %v; want %d, %v", got.GetSampleCount(), got.GetSampleSum(), total, h.Sum.Seconds())
	}
	if len(got.GetBucket()) != 21 {
		t.Fatalf("%d classic buckets, want 21 (one per doubling, 100µs..105s)", len(got.GetBucket()))
	}
	for i, bk := range got.GetBucket() {
		b := revisionBounds[i]
		var cum uint64
		for _, c := range h.Counts[:b+1] {
			cum += c
		}
		if bk.GetUpperBound() != proxy.UpperBound(b).Seconds() || bk.GetCumulativeCount() != cum {
			t.Errorf("classic bucket %d: le %v count %d, want le %v count %d", i, bk.GetUpperBound(), bk.GetCumulativeCount(), proxy.UpperBound(b).Seconds(), cum)
		}
	}

	nh := native(t, got)
	if nh.Schema != 1 || nh.ZeroThreshold != 100e-6 || nh.ZeroCount != h.Counts[0] {
		t.Errorf("native: schema %d, zero threshold %v, zero count %d; want 1, 100µs, %d", nh.Schema, nh.ZeroThreshold, nh.ZeroCount, h.Counts[0])
	}
	// Every proxy bucket is counted whole in the native bucket holding its
	// geometric middle.
	want := map[float64]uint64{} // native bucket's upper bound: count
	for b := 1; b < proxy.HistogramBuckets-1; b++ {
		lo, hi := proxy.UpperBound(b-1).Seconds(), proxy.UpperBound(b).Seconds()
		mid := math.Sqrt(lo * hi)
		upper := math.Exp2(math.Ceil(math.Log2(mid)*2) / 2)
		if !(upper/math.Sqrt2 < mid && mid <= upper) {
			t.Fatalf("bucket %d: middle %v not in (%v, %v]", b, mid, upper/math.Sqrt2, upper)
		}
		want[upper] += h.Counts[b]
	}
	it := nh.PositiveBucketIterator()
	for it.Next() {
		bk := it.At()
		if bk.Count == 0 {
			continue
		}
		if math.Abs(bk.Lower*math.Sqrt2/bk.Upper-1) > 1e-9 {
			t.Errorf("native bucket (%v, %v]: not a schema 1 bucket", bk.Lower, bk.Upper)
		}
		if bk.Upper > proxy.UpperBound(proxy.HistogramBuckets-2).Seconds() {
			want[bk.Upper] += h.Counts[proxy.HistogramBuckets-1] // the overflow bucket
		}
		if bk.Count != want[bk.Upper] {
			t.Errorf("native bucket (%v, %v]: %d, want %d", bk.Lower, bk.Upper, bk.Count, want[bk.Upper])
		}
		delete(want, bk.Upper)
	}
	for upper, n := range want {
		if n > 0 {
			t.Errorf("native bucket up to %v: missing, want %d", upper, n)
		}
	}
}

// TestLatencyMetric_nativeQuantiles: PromQL's histogram_quantile over the
// native histogram agrees with the proxy's own quantile to within one
// native bucket (√2) and half a proxy bucket (√1.25).
func TestLatencyMetric_nativeQuantiles(t *testing.T) {
	for _, spread := range []struct {
		name   string
		center time.Duration
		width  int // proxy buckets either side
	}{{"fast", 300 * time.Microsecond, 2}, {"web", 40 * time.Millisecond, 10}, {"slow", 3 * time.Second, 6}} {
		var h proxy.Histogram
		c := 0
		for b := 0; b < proxy.HistogramBuckets-1 && proxy.UpperBound(b) < spread.center; b++ {
			c = b + 1
		}
		for b := max(c-spread.width, 0); b <= c+spread.width; b++ {
			n := uint64(100 + 37*b%50)
			h.Counts[b] += n
			h.Sum += time.Duration(n) * proxy.UpperBound(b)
		}
		fh := native(t, write(t, h, routeBounds)).ToFloat(nil)
		for _, q := range []float64{0.5, 0.95, 0.99} {
			got, _ := promql.HistogramQuantile(q, fh, "d", posrange.PositionRange{})
			want := h.Quantile(q).Seconds()
			if r := got / want; r < 1/(math.Sqrt2*math.Sqrt(1.25)) || r > math.Sqrt2*math.Sqrt(1.25) {
				t.Errorf("%s: histogram_quantile(%v) of the native histogram = %v, the proxy's = %v", spread.name, q, got, want)
			}
		}
	}
}

// TestLatencyMetric_nativeBucketsOnlyGrow: a native bucket never
// decreases as observations are added, or PromQL would see a counter reset.
func TestLatencyMetric_nativeBucketsOnlyGrow(t *testing.T) {
	var h proxy.Histogram
	before := native(t, write(t, h, routeBounds))
	if before.Count != 0 || before.ZeroCount != 0 {
		t.Fatalf("empty histogram: %v", before)
	}
	for step := range 200 {
		h.Counts[step*31%proxy.HistogramBuckets]++
		h.Sum += time.Millisecond
		after := native(t, write(t, h, routeBounds))
		if after.ToFloat(nil).DetectReset(before.ToFloat(nil)) {
			t.Fatalf("step %d: %v after %v reads as a counter reset", step, after, before)
		}
		before = after
	}
}

func TestLabelPairs_sortedWithoutEmptyValues(t *testing.T) {
	lp := labelPairs(routeLabels, []string{"web", "prod", "2", "v2", "", "/users/{id}"})
	lp = withLabel(lp, classLabels[4])
	var got []string
	for _, p := range lp {
		got = append(got, p.GetName()+"="+p.GetValue())
	}
	want := []string{"app=web", "code_class=5xx", "env=prod", "revision=2", "route=/users/{id}", "version=v2"}
	if len(got) != len(want) {
		t.Fatalf("label pairs %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("label pairs %v, want %v", got, want)
		}
	}
}
