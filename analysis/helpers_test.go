package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// durations is a Latencies holding every request's duration, sorted.
type durations []time.Duration

var _ Latencies = durations(nil)

func (d durations) Quantile(q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(d)))) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func (d durations) CountAbove(x time.Duration) uint64 {
	i, _ := slices.BinarySearch(d, x+1)
	return uint64(len(d) - i)
}

// lognormal returns n durations with median med and log-sd sigma, sorted.
func lognormal(r *rand.Rand, n int, med time.Duration, sigma float64) durations {
	d := make(durations, n)
	for i := range d {
		d[i] = time.Duration(float64(med) * math.Exp(sigma*r.NormFloat64()))
	}
	slices.Sort(d)
	return d
}

// repeat returns n copies of v.
func repeat(n int, v time.Duration) durations { return slices.Repeat(durations{v}, n) }

// binomial draws from Binomial(n, q) by inversion; fast when n·q is small.
func binomial(r *rand.Rand, n uint64, q float64) uint64 {
	if n == 0 || q <= 0 {
		return 0
	}
	if q >= 1 {
		return n
	}
	u := r.Float64()
	pk := math.Exp(float64(n) * math.Log1p(-q))
	cdf, k := pk, uint64(0)
	for u > cdf && k < n {
		pk *= float64(n-k) / float64(k+1) * q / (1 - q)
		k++
		cdf += pk
		if pk < 1e-300 {
			break
		}
	}
	return k
}

// errStream yields per-second observations of total requests split by the
// canary share returned by share(t), each revision's errors drawn with its
// own rate. Request counts are binomial, as a weighted router makes them.
type errStream struct {
	r                    *rand.Rand
	total                uint64
	share                func(t int) float64
	baseRate, canaryRate float64
	t                    int
	start                time.Time
}

func (s *errStream) next() Observation {
	nc := binomial(s.r, s.total, s.share(s.t))
	if p := s.share(s.t); p*float64(s.total) > 30 {
		nc = uint64(max(0, math.Round(p*float64(s.total)+math.Sqrt(p*(1-p)*float64(s.total))*s.r.NormFloat64())))
	}
	nb := s.total - min(nc, s.total)
	s.t++
	return Observation{
		At:       s.start.Add(time.Duration(s.t) * time.Second),
		Baseline: Window{Requests: nb, Errors: binomial(s.r, nb, s.baseRate)},
		Canary:   Window{Requests: nc, Errors: binomial(s.r, nc, s.canaryRate)},
	}
}

func constShare(p float64) func(int) float64 { return func(int) float64 { return p } }

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
