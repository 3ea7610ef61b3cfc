package proxy

import (
	"testing"
	"time"
)

func TestHistogram_Buckets(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{
		{0, 0}, {100 * time.Microsecond, 0}, {100*time.Microsecond + 1, 1}, {125 * time.Microsecond, 1},
		{126 * time.Microsecond, 2}, {200 * time.Microsecond, 4}, {201 * time.Microsecond, 5},
		{time.Hour, HistogramBuckets - 1},
	} {
		if got := bucketOf(tc.d); got != tc.want {
			t.Errorf("bucketOf(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
	for i := 0; i < HistogramBuckets-1; i++ {
		ub := UpperBound(i)
		if bucketOf(ub) != i || bucketOf(ub+1) != i+1 {
			t.Errorf("bucket %d: upper bound %v falls in %d, just above in %d", i, ub, bucketOf(ub), bucketOf(ub+1))
		}
	}
	if last := UpperBound(HistogramBuckets - 2); last < 60*time.Second {
		t.Errorf("largest bound %v, want at least 60s", last)
	}
}

func TestHistogram_Quantile(t *testing.T) {
	var l liveHistogram
	// 1..1000 ms, one each.
	for i := 1; i <= 1000; i++ {
		l.observe(time.Duration(i) * time.Millisecond)
	}
	h := l.snapshot()
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.9, 900 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.Quantile(tc.q)
		if got < tc.want*3/4 || got > tc.want*5/4 {
			t.Errorf("Quantile(%v) = %v, want within 25%% of %v", tc.q, got, tc.want)
		}
	}
	if h.Count() != 1000 {
		t.Errorf("Count = %d, want 1000", h.Count())
	}
	if got := h.CountAbove(UpperBound(bucketOf(800 * time.Millisecond))); got != 181 { // 819.2ms, a bound
		t.Errorf("CountAbove(819.2ms) = %d, want 181", got)
	}
	if got := h.CountAbove(800 * time.Millisecond); got < 190 || got > 210 { // inside a bucket: estimated
		t.Errorf("CountAbove(800ms) = %d, want about 200", got)
	}
	if h.Sum != 500500*time.Millisecond {
		t.Errorf("Sum = %v, want 500.5s", h.Sum)
	}
	if got := (Histogram{}).Quantile(0.99); got != 0 {
		t.Errorf("empty Quantile = %v, want 0", got)
	}
}

func TestHistogram_Sub(t *testing.T) {
	var l liveHistogram
	for i := 0; i < 100; i++ {
		l.observe(time.Millisecond)
	}
	older := l.snapshot()
	for i := 0; i < 10; i++ {
		l.observe(2 * time.Second)
	}
	window := l.snapshot().Sub(older)
	if window.Count() != 10 || window.CountAbove(time.Second) != 10 {
		t.Errorf("window count %d, above 1s %d; want 10 and 10", window.Count(), window.CountAbove(time.Second))
	}
	if q := window.Quantile(0.5); q < 1500*time.Millisecond || q > 2500*time.Millisecond {
		t.Errorf("window median %v, want about 2s", q)
	}
	if window.Sum != 20*time.Second {
		t.Errorf("window sum %v, want 20s", window.Sum)
	}
}
