package main

import (
	"time"

	"github.com/gantry-dev/gantry/analysis"
	"github.com/gantry-dev/gantry/proxy"
)

// fixedCheck is the analysis Flagger and Argo Rollouts users typically
// configure: every Interval, the canary's 5xx share over the last interval
// above MaxErrorRate is a failed check, and so is its p99 above a fixed
// latency; after Threshold failed checks (counted over the whole analysis,
// not necessarily in a row) the canary is rolled back.
type fixedCheck struct {
	Interval     time.Duration
	MaxErrorRate float64
	MaxP99       time.Duration
	Threshold    int

	since          time.Time
	begun          bool
	requests, errs uint64
	lat            proxy.Histogram
	failed         int
}

// observe adds one second and reports whether the canary is rolled back.
func (f *fixedCheck) observe(o analysis.Observation) bool {
	if !f.begun {
		f.since, f.begun = o.At.Add(-time.Second), true
	}
	f.requests += o.Canary.Requests
	f.errs += o.Canary.Errors
	if b, ok := o.Canary.Latency.(*analysis.Buckets); ok {
		for i, c := range b.Counts {
			f.lat.Counts[i] += c
		}
	}
	if o.At.Sub(f.since) < f.Interval {
		return false
	}
	fail := false
	if f.requests > 0 && float64(f.errs)/float64(f.requests) > f.MaxErrorRate {
		fail = true
	}
	if f.MaxP99 > 0 && f.lat.Quantile(0.99) > f.MaxP99 {
		fail = true
	}
	if fail {
		f.failed++
	}
	f.since, f.requests, f.errs = o.At, 0, 0
	clear(f.lat.Counts[:])
	return f.failed >= f.Threshold
}
