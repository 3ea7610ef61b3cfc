package proxy

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram bucket layout: log-linear. Bucket 0 holds durations up to
// histUnit*4 (100µs). Above that, each doubling [100µs·2^k, 100µs·2^(k+1))
// is split into four equal-width buckets, up to histDoublings doublings
// (100µs·2^20 ≈ 105s, past the 60s the layout promises); the last bucket
// holds everything longer.
const (
	histUnit       = 25 * time.Microsecond
	histDoublings  = 20
	histSubBuckets = 4
	// HistogramBuckets is the number of buckets in a Histogram.
	HistogramBuckets = 1 + histDoublings*histSubBuckets + 1
)

// Histogram is a snapshot of a fixed-bucket latency histogram with
// cumulative counts. Buckets are log-linear from 100µs to about 105s (four
// buckets per doubling, so a quantile is exact to within 25% of its value)
// plus one overflow bucket. The zero value is an empty histogram.
type Histogram struct {
	// Counts holds the number of observations per bucket; bucket i covers
	// (UpperBound(i-1), UpperBound(i)].
	Counts [HistogramBuckets]uint64
	// Sum is the total of all observed durations.
	Sum time.Duration
}

// bucketOf returns the bucket index for duration d.
func bucketOf(d time.Duration) int {
	if d <= 4*histUnit {
		return 0
	}
	u := uint64((d - 1) / histUnit) // d in (u*unit, (u+1)*unit]
	if u < 4 {
		return 0
	}
	k := bits.Len64(u) - 3 // u in [4·2^k, 8·2^k)
	if k >= histDoublings {
		return HistogramBuckets - 1
	}
	sub := int(u>>uint(k)) - 4
	return 1 + k*histSubBuckets + sub
}

// UpperBound returns the inclusive upper bound of bucket i; the last
// (overflow) bucket has no bound and returns the largest Duration.
func UpperBound(i int) time.Duration {
	if i <= 0 {
		return 4 * histUnit
	}
	if i >= HistogramBuckets-1 {
		return time.Duration(1<<63 - 1)
	}
	k := (i - 1) / histSubBuckets
	sub := (i - 1) % histSubBuckets
	return histUnit * time.Duration(uint64(4+sub+1)<<uint(k))
}

// Count returns the number of observations.
func (h Histogram) Count() uint64 {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// CountAbove returns how many observations were slower than d. Buckets
// wholly above d count in full; the bucket holding d counts in proportion to
// the part of it above d (observations are assumed spread evenly within a
// bucket), so the answer is exact when d is a bucket bound and an estimate
// otherwise.
func (h Histogram) CountAbove(d time.Duration) uint64 {
	b := bucketOf(d)
	var n uint64
	for i := b + 1; i < HistogramBuckets; i++ {
		n += h.Counts[i]
	}
	if c := h.Counts[b]; c > 0 && b < HistogramBuckets-1 {
		var lo time.Duration
		if b > 0 {
			lo = UpperBound(b - 1)
		}
		hi := UpperBound(b)
		n += uint64(float64(c)*float64(hi-d)/float64(hi-lo) + 0.5)
	}
	return n
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of the observations,
// interpolated linearly within its bucket. It returns 0 for an empty
// histogram; observations in the overflow bucket report its lower bound.
func (h Histogram) Quantile(q float64) time.Duration {
	total := h.Count()
	if total == 0 {
		return 0
	}
	if q < 0 {
		q = 0
	}
	if q > 1 {
		q = 1
	}
	rank := q * float64(total)
	if rank < 1 {
		rank = 1
	}
	var seen float64
	for i, c := range h.Counts {
		if c == 0 {
			continue
		}
		if seen+float64(c) >= rank {
			var lo time.Duration
			if i > 0 {
				lo = UpperBound(i - 1)
			}
			if i == HistogramBuckets-1 {
				return lo
			}
			hi := UpperBound(i)
			frac := (rank - seen) / float64(c)
			return lo + time.Duration(frac*float64(hi-lo))
		}
		seen += float64(c)
	}
	return UpperBound(HistogramBuckets - 2)
}

// Sub returns the observations made between older and h: h minus older,
// bucket by bucket. Use it for windows: take a snapshot, wait, take another,
// and subtract.
func (h Histogram) Sub(older Histogram) Histogram {
	var out Histogram
	for i := range h.Counts {
		if h.Counts[i] >= older.Counts[i] {
			out.Counts[i] = h.Counts[i] - older.Counts[i]
		}
	}
	out.Sum = h.Sum - older.Sum
	if out.Sum < 0 {
		out.Sum = 0
	}
	return out
}

// liveHistogram is the concurrently updated form of Histogram.
type liveHistogram struct {
	counts [HistogramBuckets]atomic.Uint64
	sum    atomic.Int64
}

func (l *liveHistogram) observe(d time.Duration) {
	if d < 0 {
		d = 0
	}
	l.counts[bucketOf(d)].Add(1)
	l.sum.Add(int64(d))
}

func (l *liveHistogram) snapshot() Histogram {
	var h Histogram
	for i := range l.counts {
		h.Counts[i] = l.counts[i].Load()
	}
	h.Sum = time.Duration(l.sum.Load())
	return h
}
