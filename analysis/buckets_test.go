package analysis

import (
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	ms := time.Millisecond
	b := Buckets{
		UpperBounds: []time.Duration{10 * ms, 20 * ms, 40 * ms, 1<<63 - 1},
		Counts:      []uint64{50, 30, 15, 5},
	}
	tests := []struct {
		d    time.Duration
		want uint64
	}{
		{0, 100}, {5 * ms, 50}, {10 * ms, 50}, {11 * ms, 20}, {20 * ms, 20}, {40 * ms, 5}, {time.Hour, 0},
	}
	for _, tt := range tests {
		if got := b.CountAbove(tt.d); got != tt.want {
			t.Errorf("CountAbove(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
	quantiles := []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 10 * ms}, {0.65, 15 * ms}, {0.99, 40 * ms}, {0, 200 * time.Microsecond},
	}
	for _, tt := range quantiles {
		if got := b.Quantile(tt.q); got != tt.want {
			t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := (Buckets{UpperBounds: b.UpperBounds, Counts: make([]uint64, 4)}).Quantile(0.5); got != 0 {
		t.Errorf("empty Quantile = %v, want 0", got)
	}
}
