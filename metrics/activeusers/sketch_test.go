package activeusers

import (
	"math"
	"strconv"
	"testing"
)

// addN adds the users "prefix0".."prefix(n-1)" to s.
func addN(s *Sketch, prefix string, n int) {
	b := []byte(prefix)
	for i := 0; i < n; i++ {
		s.Add(testSeed.Hash(strconv.AppendInt(b, int64(i), 10)))
	}
}

// within fails t when got is not n within 3 standard errors (about 5%),
// or within 1 for a handful of users.
func within(t *testing.T, got float64, n int) {
	t.Helper()
	bound := math.Max(1, 3*StdError*float64(n))
	if math.Abs(got-float64(n)) > bound {
		t.Errorf("estimate %.1f for %d users: off by %.1f, more than %.1f", got, n, got-float64(n), bound)
	}
}

func TestSketch_Estimate(t *testing.T) {
	for _, n := range []int{0, 1, 10, 100, 1_000, 10_000, 20_000, 100_000, 1_000_000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			var s Sketch
			addN(&s, "user-", n)
			addN(&s, "user-", n) // repeats count once
			got := s.Estimate()
			within(t, got, n)
			t.Logf("%d users: estimate %.1f (%+.2f%%)", n, got, 100*(got-float64(n))/math.Max(1, float64(n)))
		})
	}
}

// TestSketch_EstimateError checks the spread over many independent sets
// of 5,000 users: the root mean square relative error stays near StdError.
func TestSketch_EstimateError(t *testing.T) {
	const sets, n = 40, 5_000
	var sq float64
	for k := 0; k < sets; k++ {
		var s Sketch
		addN(&s, "set"+strconv.Itoa(k)+"-", n)
		rel := (s.Estimate() - n) / n
		sq += rel * rel
	}
	rms := math.Sqrt(sq / sets)
	if rms > 1.5*StdError {
		t.Errorf("root mean square error %.4f over %d sets; want about %.4f", rms, sets, StdError)
	}
	t.Logf("root mean square relative error %.4f (standard error %.4f)", rms, StdError)
}

func TestSketch_Merge(t *testing.T) {
	var a, b, empty Sketch
	addN(&a, "u", 30_000)      // users 0..29999
	addN(&b, "u", 50_000)      // users 0..49999: 30,000 shared with a
	addN(&b, "other-", 20_000) // and 20,000 of its own
	a.Merge(b)
	within(t, a.Estimate(), 70_000)
	before := a.Estimate()
	a.Merge(empty)
	if a.Estimate() != before {
		t.Errorf("merging an empty sketch changed the estimate from %.1f to %.1f", before, a.Estimate())
	}
	empty.Merge(b)
	within(t, empty.Estimate(), 70_000)
}

func TestSketch_Validate(t *testing.T) {
	var s Sketch
	addN(&s, "u", 100)
	if err := s.Validate(); err != nil {
		t.Errorf("a sketch of 100 users: %v", err)
	}
	if err := Sketch(nil).Validate(); err != nil {
		t.Errorf("an empty sketch: %v", err)
	}
	if err := s[:100].Validate(); err == nil {
		t.Error("a sketch of 100 registers was accepted")
	}
	bad := append(Sketch(nil), s...)
	bad[7] = maxRank + 1
	if err := bad.Validate(); err == nil {
		t.Error("a register above the largest rank was accepted")
	}
}

func BenchmarkHash(b *testing.B) {
	id := []byte("203.0.113.195")
	var sink uint64
	for b.Loop() {
		sink += testSeed.Hash(id)
	}
	_ = sink
}
