package analysis

import (
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkObserve measures one Observe of a second at 1,000 requests/s
// with a 5% canary share, errors, and latency histograms; divide ns/op by
// 1,000 for the cost per request.
func BenchmarkObserve(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	const n = 64
	obs := make([]Observation, n)
	for i := range obs {
		obs[i] = Observation{
			Baseline: Window{Requests: 950, Errors: binomial(r, 950, 0.001), Latency: lognormal(r, 950, 50*time.Millisecond, 0.5)},
			Canary:   Window{Requests: 50, Errors: binomial(r, 50, 0.001), Latency: lognormal(r, 50, 50*time.Millisecond, 0.5)},
		}
	}
	a := mustNewB(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		o := obs[i%n]
		o.At = t0.Add(time.Duration(i) * time.Second)
		a.Observe(o)
	}
}

func mustNewB(b *testing.B) *Analyzer {
	a, err := New(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	return a
}
