package activeusers

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

// addWindow adds the users "prefix0".."prefix(n-1)" to w at now.
func addWindow(w *Window, prefix string, n int, now int64) {
	for i := 0; i < n; i++ {
		w.Add(testSeed.Hash([]byte(prefix+strconv.Itoa(i))), now)
	}
}

func TestWindow_Rotation(t *testing.T) {
	var w Window
	w.SetLength(5 * time.Minute)
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC).UnixNano()
	at := func(d time.Duration) int64 { return t0 + int64(d) }

	addWindow(&w, "early-", 2_000, at(0))
	addWindow(&w, "late-", 1_000, at(3*time.Minute))
	addWindow(&w, "early-", 500, at(3*time.Minute)) // seen again: still 3,000 users
	within(t, w.Sketch(at(3*time.Minute)).Estimate(), 3_000)
	within(t, w.Sketch(at(5*time.Minute)).Estimate(), 3_000) // the window still covers minute 0

	// Past the window (plus its last fifth), the users of minute 0 that
	// did not come back are gone; those seen at minute 3 remain.
	within(t, w.Sketch(at(6*time.Minute+time.Second)).Estimate(), 1_500)
	within(t, w.Sketch(at(8*time.Minute)).Estimate(), 1_500)
	if got := w.Sketch(at(10 * time.Minute)).Estimate(); got != 0 {
		t.Errorf("estimate %.1f ten minutes after the last user; want 0", got)
	}

	// A slot reused for a new sub-window starts empty.
	addWindow(&w, "new-", 100, at(12*time.Minute))
	within(t, w.Sketch(at(12*time.Minute)).Estimate(), 100)
}

func TestWindow_SetLength(t *testing.T) {
	var w Window
	if w.Length() != DefaultWindow {
		t.Errorf("zero Window's length %v; want %v", w.Length(), DefaultWindow)
	}
	now := time.Now().UnixNano()
	addWindow(&w, "u", 100, now)
	w.SetLength(time.Minute)
	if got := w.Sketch(now).Estimate(); got != 0 {
		t.Errorf("estimate %.1f after the length changed; want 0 (forgotten)", got)
	}
	addWindow(&w, "u", 100, now)
	w.SetLength(time.Minute) // unchanged: kept
	within(t, w.Sketch(now).Estimate(), 100)
}

func TestValidateWindow(t *testing.T) {
	for _, d := range []time.Duration{0, time.Second, 25 * time.Hour} {
		if err := ValidateWindow(d); err == nil {
			t.Errorf("window %v accepted", d)
		}
	}
	for _, d := range []time.Duration{MinWindow, DefaultWindow, MaxWindow} {
		if err := ValidateWindow(d); err != nil {
			t.Errorf("window %v: %v", d, err)
		}
	}
}

// TestWindow_Concurrent adds users from several goroutines while the
// window is read (run it with -race).
func TestWindow_Concurrent(t *testing.T) {
	var w Window
	now := time.Now().UnixNano()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addWindow(&w, "u", 20_000, now) // every goroutine adds the same users
			w.Sketch(now)
		}()
	}
	wg.Wait()
	within(t, w.Sketch(now).Estimate(), 20_000)
}

func TestWindow_AddAllocs(t *testing.T) {
	var w Window
	h, now := testSeed.Hash([]byte("198.51.100.7")), time.Now().UnixNano()
	if n := testing.AllocsPerRun(100, func() { w.Add(h, now) }); n != 0 {
		t.Errorf("Add allocates %.0f times; want 0", n)
	}
}

// BenchmarkWindow_Add measures Add of users already counted (the common
// case) and of new ones, from every core at once.
func BenchmarkWindow_Add(b *testing.B) {
	var w Window
	now := time.Now().UnixNano()
	b.Run("seen", func(b *testing.B) {
		h := testSeed.Hash([]byte("198.51.100.7"))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				w.Add(h, now)
			}
		})
	})
	b.Run("new", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			var i uint64
			for pb.Next() {
				i++
				w.Add(mix(i), now)
			}
		})
	})
}

// mix is SplitMix64's finalizer: every input bit flips about half the
// output bits, so the register index and the rank are independent.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
