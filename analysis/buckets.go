package analysis

import (
	"slices"
	"time"
)

// Buckets is a fixed-bucket latency histogram as plain data, and the
// Latencies to give the analysis: it counts every request by its bucket
// alone, as the sequential latency test needs. Build one over another
// histogram's arrays without copying, for example over a
// proxy.Histogram h:
//
//	bounds := make([]time.Duration, proxy.HistogramBuckets) // once
//	for i := range bounds { bounds[i] = proxy.UpperBound(i) }
//	lat := analysis.Buckets{UpperBounds: bounds, Counts: h.Counts[:]}
//
// Do not hand the analysis a CountAbove that interpolates inside a bucket
// and rounds: it rounds a revision with a handful of slow requests
// differently from one with hundreds, and the latency test then rolls back
// healthy canaries (bench/analysis measured 4% instead of under 1%).
type Buckets struct {
	// UpperBounds[i] is the inclusive upper bound of bucket i, increasing.
	// Bucket 0 starts at 0; a last bucket bounded by the largest Duration
	// holds the overflow.
	UpperBounds []time.Duration
	// Counts[i] is the number of requests in bucket i; same length as
	// UpperBounds.
	Counts []uint64
}

var _ Latencies = Buckets{}

// CountAbove returns the number of requests in the buckets that lie
// wholly above d: those whose lower bound is at least d. A request in d's
// own bucket is not counted, whatever its latency.
func (b Buckets) CountAbove(d time.Duration) uint64 {
	// Bucket i covers (UpperBounds[i-1], UpperBounds[i]]; it lies above d
	// when UpperBounds[i-1] ≥ d. j is the first bound ≥ d.
	i := 0
	if d > 0 {
		j, _ := slices.BinarySearch(b.UpperBounds, d)
		i = j + 1
	}
	var n uint64
	for _, c := range b.Counts[min(i, len(b.Counts)):] {
		n += c
	}
	return n
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1), interpolated linearly inside
// its bucket; the overflow bucket reports its lower bound. 0 when empty.
func (b Buckets) Quantile(q float64) time.Duration {
	var total uint64
	for _, c := range b.Counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := max(min(q, 1), 0) * float64(total)
	rank = max(rank, 1)
	var seen float64
	for i, c := range b.Counts {
		if c == 0 {
			continue
		}
		if seen+float64(c) >= rank {
			var lo time.Duration
			if i > 0 {
				lo = b.UpperBounds[i-1]
			}
			hi := b.UpperBounds[i]
			if hi == time.Duration(1<<63-1) {
				return lo
			}
			return lo + time.Duration((rank-seen)/float64(c)*float64(hi-lo))
		}
		seen += float64(c)
	}
	return b.UpperBounds[len(b.UpperBounds)-1]
}
