package server

import (
	"math"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protowire"
)

// The protobuf exposition of a seriesTable's families, written field by
// field (protowire) in the order and form proto.Marshal writes
// client_model's MetricFamily (checked byte for byte against it): each
// series' label pairs are encoded once, when it first appears.

// Field numbers of client_model's messages (io/prometheus/client/metrics.proto).
const (
	pbFamilyName, pbFamilyHelp, pbFamilyType, pbFamilyMetric         protowire.Number = 1, 2, 3, 4
	pbMetricLabel, pbMetricGauge, pbMetricCounter, pbMetricHistogram protowire.Number = 1, 2, 3, 7
	pbLabelName, pbLabelValue                                        protowire.Number = 1, 2
	pbValue                                                          protowire.Number = 1 // of Gauge and Counter
	pbHistCount, pbHistSum, pbHistBucket, pbHistSchema               protowire.Number = 1, 2, 3, 5
	pbHistZeroThreshold, pbHistZeroCount                             protowire.Number = 6, 7
	pbHistPositiveSpan, pbHistPositiveDelta                          protowire.Number = 12, 13
	pbBucketCount, pbBucketBound                                     protowire.Number = 1, 2
	pbSpanOffset, pbSpanLength                                       protowire.Number = 1, 2
)

// pbLabels returns label pairs as the repeated label field of a Metric.
func pbLabels(pairs []*dto.LabelPair) []byte {
	var b, lp []byte
	for _, p := range pairs {
		lp = protowire.AppendTag(lp[:0], pbLabelName, protowire.BytesType)
		lp = protowire.AppendString(lp, p.GetName())
		lp = protowire.AppendTag(lp, pbLabelValue, protowire.BytesType)
		lp = protowire.AppendString(lp, p.GetValue())
		b = protowire.AppendTag(b, pbMetricLabel, protowire.BytesType)
		b = protowire.AppendBytes(b, lp)
	}
	return b
}

// pbWriter writes families; its buffers are reused between families.
type pbWriter struct {
	family, metric, hist, part []byte
	spans                      []nativeSpan
	deltas                     []int64
}

// nativeSpan is a native histogram's span of consecutive buckets.
type nativeSpan struct {
	offset int32
	length uint32
}

// appendFamily appends the family as one length-delimited MetricFamily,
// as protodelim.MarshalTo writes dtoFamily's result; nothing for a family
// without samples.
func (w *pbWriter) appendFamily(out []byte, tf tableFamily) []byte {
	if len(tf.values) == 0 && len(tf.hists) == 0 {
		return out
	}
	f := tf.f
	b := protowire.AppendTag(w.family[:0], pbFamilyName, protowire.BytesType)
	b = protowire.AppendString(b, f.name)
	b = protowire.AppendTag(b, pbFamilyHelp, protowire.BytesType)
	b = protowire.AppendString(b, f.help)
	b = protowire.AppendTag(b, pbFamilyType, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(f.typ))
	field := pbMetricCounter
	if f.typ == dto.MetricType_GAUGE {
		field = pbMetricGauge
	}
	for _, s := range tf.values {
		m := append(w.metric[:0], s.pb...)
		m = protowire.AppendTag(m, field, protowire.BytesType)
		m = protowire.AppendVarint(m, 9) // the value: tag and 8 bytes
		m = protowire.AppendTag(m, pbValue, protowire.Fixed64Type)
		m = protowire.AppendFixed64(m, math.Float64bits(s.v))
		b = protowire.AppendTag(b, pbFamilyMetric, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
		w.metric = m
	}
	for _, s := range tf.hists {
		w.hist = w.appendHistogram(w.hist[:0], s, f.bounds)
		m := append(w.metric[:0], s.labels.pb...)
		m = protowire.AppendTag(m, pbMetricHistogram, protowire.BytesType)
		m = protowire.AppendBytes(m, w.hist)
		b = protowire.AppendTag(b, pbFamilyMetric, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
		w.metric = m
	}
	w.family = b
	out = protowire.AppendVarint(out, uint64(len(b)))
	return append(out, b...)
}

// appendHistogram appends a Histogram message's fields: the classic
// buckets at bounds and the native histogram, as latencyMetric writes them.
func (w *pbWriter) appendHistogram(b []byte, s histSample, bounds []int) []byte {
	h := s.h
	var count uint64
	for _, c := range h.Counts {
		count += c
	}
	b = protowire.AppendTag(b, pbHistCount, protowire.VarintType)
	b = protowire.AppendVarint(b, count)
	b = protowire.AppendTag(b, pbHistSum, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, math.Float64bits(h.Sum.Seconds()))
	var cum uint64
	next := 0
	for i, c := range h.Counts {
		cum += c
		if next < len(bounds) && bounds[next] == i {
			p := protowire.AppendTag(w.part[:0], pbBucketCount, protowire.VarintType)
			p = protowire.AppendVarint(p, cum)
			p = protowire.AppendTag(p, pbBucketBound, protowire.Fixed64Type)
			p = protowire.AppendFixed64(p, math.Float64bits(upperBounds[i]))
			b = protowire.AppendTag(b, pbHistBucket, protowire.BytesType)
			b = protowire.AppendBytes(b, p)
			w.part = p
			next++
		}
	}
	b = protowire.AppendTag(b, pbHistSchema, protowire.VarintType)
	b = protowire.AppendVarint(b, protowire.EncodeZigZag(nativeSchema))
	b = protowire.AppendTag(b, pbHistZeroThreshold, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, math.Float64bits(nativeZeroThreshold))
	b = protowire.AppendTag(b, pbHistZeroCount, protowire.VarintType)
	b = protowire.AppendVarint(b, h.Counts[0])
	w.spans, w.deltas = nativeBuckets(h.Counts[:], w.spans[:0], w.deltas[:0])
	if len(w.spans) == 0 {
		w.spans = append(w.spans, nativeSpan{}) // as latencyMetric writes an empty one
	}
	for _, sp := range w.spans {
		p := protowire.AppendTag(w.part[:0], pbSpanOffset, protowire.VarintType)
		p = protowire.AppendVarint(p, protowire.EncodeZigZag(int64(sp.offset)))
		p = protowire.AppendTag(p, pbSpanLength, protowire.VarintType)
		p = protowire.AppendVarint(p, uint64(sp.length))
		b = protowire.AppendTag(b, pbHistPositiveSpan, protowire.BytesType)
		b = protowire.AppendBytes(b, p)
		w.part = p
	}
	for _, d := range w.deltas {
		b = protowire.AppendTag(b, pbHistPositiveDelta, protowire.VarintType)
		b = protowire.AppendVarint(b, protowire.EncodeZigZag(d))
	}
	return b
}

// nativeBuckets appends the native histogram of the proxy's bucket counts
// (nativeIndex) to spans and deltas: the positive buckets' spans and the
// delta of each bucket's count to the previous one's.
func nativeBuckets(counts []uint64, spans []nativeSpan, deltas []int64) ([]nativeSpan, []int64) {
	var (
		idx     int32 = math.MinInt32 // native bucket being summed
		end     int32                 // index past the last bucket of spans
		n, prev int64                 // idx's count, the previous bucket's
	)
	flush := func() {
		if n == 0 {
			return
		}
		if len(spans) > 0 && idx == end {
			spans[len(spans)-1].length++
		} else {
			spans = append(spans, nativeSpan{offset: idx - end, length: 1}) // the first span's offset is its index
		}
		end = idx + 1
		deltas = append(deltas, n-prev)
		prev, n = n, 0
	}
	for b := 1; b < len(counts); b++ {
		if c := counts[b]; c > 0 {
			if nativeIndex[b] != idx {
				flush()
				idx = nativeIndex[b]
			}
			n += int64(c)
		}
	}
	flush()
	return spans, deltas
}
