package main

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/gantry-dev/gantry/analysis"
	"github.com/gantry-dev/gantry/proxy"
)

// proxyBounds are the proxy histogram's bucket bounds, for analysis.Buckets
// views over its counts: the analysis reads the proxy's histograms through
// such a view, which counts whole buckets.
var proxyBounds = func() []time.Duration {
	b := make([]time.Duration, proxy.HistogramBuckets)
	for i := range b {
		b[i] = proxy.UpperBound(i)
	}
	return b
}()

// latencyDist is one revision's requests per second, spread over the
// proxy's histogram buckets by a lognormal latency distribution. Requests
// arrive as a Poisson process and the router sends each to the canary with
// the canary's share, so each bucket's count is an independent Poisson
// variable; given a revision's total, the counts are multinomial, exactly
// as if each request's latency had been drawn.
type latencyDist struct {
	// buckets are the sampled buckets with their mean counts per second,
	// from the overflow bucket down to where exact sampling stops; the
	// rest is lumped into one bucket (only quantiles above ~p79 are exact,
	// which is all that the analysis and the fixed checks read).
	buckets []poissonBucket
	lump    poissonBucket
}

type poissonBucket struct {
	index int
	mean  float64
	// expNeg is exp(-mean), for inversion.
	expNeg float64
}

// cutZ is where exact sampling starts, in standard deviations above the
// median of log-latency.
const cutZ = 0.8

func newLatencyDist(rps float64, median time.Duration, sigma float64) latencyDist {
	mu := math.Log(float64(median))
	sf := func(d time.Duration) float64 { // P(X > d)
		return 0.5 * math.Erfc((math.Log(float64(d))-mu)/(sigma*math.Sqrt2))
	}
	cut := time.Duration(float64(median) * math.Exp(cutZ*sigma))
	bucket := func(i int, p float64) poissonBucket {
		return poissonBucket{index: i, mean: rps * p, expNeg: math.Exp(-rps * p)}
	}
	var ld latencyDist
	prevSF := 0.0 // P(X > UpperBound(i)) for the bucket above
	for i := proxy.HistogramBuckets - 1; i > 0; i-- {
		lo := proxy.UpperBound(i - 1)
		s := sf(lo)
		if p := s - prevSF; rps*p > 1e-9 {
			ld.buckets = append(ld.buckets, bucket(i, p))
		}
		prevSF = s
		if lo <= cut {
			ld.lump = bucket(i-1, 1-s)
			break
		}
	}
	return ld
}

// fill sets h to one second of requests and returns their number.
func (ld latencyDist) fill(r *rand.Rand, h *proxy.Histogram) uint64 {
	clear(h.Counts[:])
	var n uint64
	for _, b := range ld.buckets {
		c := b.poisson(r)
		h.Counts[b.index] = c
		n += c
	}
	c := ld.lump.poisson(r)
	h.Counts[ld.lump.index] += c
	return n + c
}

// poisson draws the bucket's count: by inversion for small means, by the
// normal approximation above 30 (only body buckets, far below p95).
func (b poissonBucket) poisson(r *rand.Rand) uint64 {
	if b.mean > 30 {
		return uint64(max(0, math.Round(b.mean+math.Sqrt(b.mean)*r.NormFloat64())))
	}
	u := r.Float64()
	pk := b.expNeg
	cdf, k := pk, uint64(0)
	for u > cdf && pk > 0 {
		k++
		pk *= b.mean / float64(k)
		cdf += pk
	}
	return k
}

// quantile is the distribution's true q-quantile.
func quantile(median time.Duration, sigma, q float64) time.Duration {
	z := -math.Sqrt2 * math.Erfcinv(2*q)
	return time.Duration(float64(median) * math.Exp(sigma*z))
}

// binomial draws from Binomial(n, q) by inversion, or from its normal
// approximation when the mean is above 40 (counts whose exact law does not
// matter here: the tests condition on them).
func binomial(r *rand.Rand, n uint64, q float64) uint64 {
	if n == 0 || q <= 0 {
		return 0
	}
	if q >= 1 {
		return n
	}
	mean := float64(n) * q
	if mean > 40 {
		v := math.Round(mean + math.Sqrt(mean*(1-q))*r.NormFloat64())
		return uint64(min(max(v, 0), float64(n)))
	}
	u := r.Float64()
	pk := math.Exp(float64(n) * math.Log1p(-q))
	cdf, k := pk, uint64(0)
	odds := q / (1 - q)
	for u > cdf && k < n {
		pk *= float64(n-k) / float64(k+1) * odds
		k++
		cdf += pk
		if pk < 1e-300 && float64(k) > mean {
			break
		}
	}
	return k
}

// scenario is one kind of canary.
type scenario struct {
	name string
	// errFactor multiplies the baseline's error rate on the canary.
	errFactor float64
	// p99Factor widens the canary's latency tail (same median) so that its
	// p99 is this multiple of the baseline's.
	p99Factor float64
	healthy   bool
	// slower multiplies the canary's median latency (a slower version).
	slower float64
	// place is where the canary stands: the latency effect of its
	// instances' traffic and age, on the canary and, with likeForLike,
	// on the baseline too.
	place placement
	// likeForLike compares the canary with fresh instances of the stable
	// revision at the canary's traffic, instead of the primary instances.
	likeForLike bool
	// errorsAll, with likeForLike, compares the canary's errors with every
	// stable instance (Observation.ErrorBaseline): the baseline and the
	// primary instances, which serve the rest of the traffic.
	errorsAll bool
	// noMargins runs the analysis without its margins.
	noMargins bool
}

// placement is a latency effect of where instances stand: their median is
// multiplied by median and their log-latency's σ grows by sigma.
type placement struct {
	median, sigma float64
}

// world is the traffic both revisions serve.
type world struct {
	rps        float64
	share      float64
	baseErr    float64
	median     time.Duration
	sigma      float64
	maxSeconds int
}

// stream yields one run's per-second observations.
type stream struct {
	w         world
	r         *rand.Rand
	base, can latencyDist
	canErr    float64
	// primary is the primary instances' requests per second when errors
	// are compared with every stable instance; 0: they are not.
	primary float64
	hb, hc  proxy.Histogram
	lb, lc  analysis.Buckets // views over hb and hc, what the analysis reads
	t       int
	start   time.Time
}

func newStream(w world, sc scenario, r *rand.Rand) *stream {
	z99 := -math.Sqrt2 * math.Erfcinv(2*0.99)
	p99 := sc.p99Factor
	if p99 == 0 {
		p99 = 1
	}
	place := sc.place
	if place.median == 0 {
		place.median = 1
	}
	slower := sc.slower
	if slower == 0 {
		slower = 1
	}
	placed := func(m float64) time.Duration { return time.Duration(float64(w.median) * m) }
	sigmaC := w.sigma + place.sigma + math.Log(p99)/z99
	base := newLatencyDist(w.rps*(1-w.share), w.median, w.sigma)
	if sc.likeForLike {
		base = newLatencyDist(w.rps*w.share, placed(place.median), w.sigma+place.sigma)
	}
	s := &stream{
		w: w, r: r,
		base:   base,
		can:    newLatencyDist(w.rps*w.share, placed(place.median*slower), sigmaC),
		canErr: w.baseErr * sc.errFactor,
		start:  time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
	}
	if sc.likeForLike && sc.errorsAll {
		s.primary = w.rps * (1 - 2*w.share)
	}
	s.lb = analysis.Buckets{UpperBounds: proxyBounds, Counts: s.hb.Counts[:]}
	s.lc = analysis.Buckets{UpperBounds: proxyBounds, Counts: s.hc.Counts[:]}
	return s
}

// next returns the next second. The histograms it points to are reused by
// the following call.
func (s *stream) next() analysis.Observation {
	s.t++
	nb := s.base.fill(s.r, &s.hb)
	nc := s.can.fill(s.r, &s.hc)
	o := analysis.Observation{
		At:              s.start.Add(time.Duration(s.t) * time.Second),
		Baseline:        analysis.Window{Requests: nb, Errors: binomial(s.r, nb, s.w.baseErr), Latency: &s.lb},
		Canary:          analysis.Window{Requests: nc, Errors: binomial(s.r, nc, s.canErr), Latency: &s.lc},
		CanaryInstances: analysis.Instances{Total: 2},
	}
	if s.primary > 0 {
		// Poisson arrivals: the normal approximation of a count this large.
		np := uint64(max(0, math.Round(s.primary+math.Sqrt(s.primary)*s.r.NormFloat64())))
		o.ErrorBaseline = &analysis.Window{Requests: nb + np, Errors: o.Baseline.Errors + binomial(s.r, np, s.w.baseErr)}
	}
	return o
}
