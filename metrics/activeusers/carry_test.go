package activeusers

import (
	"encoding/json"
	"sync"
	"testing"
	"time"
)

func TestWindow_ExportImport(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC).UnixNano()
	at := func(d time.Duration) int64 { return t0 + int64(d) }
	var old Window
	addWindow(&old, "early-", 2_000, at(0))
	addWindow(&old, "late-", 1_000, at(3*time.Minute))

	// The export travels as JSON, as in a data plane's hand-over.
	b, err := json.Marshal(old.Export(at(3 * time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	var carried Slots
	if err := json.Unmarshal(b, &carried); err != nil {
		t.Fatal(err)
	}
	if len(carried.Slots) != 2 {
		t.Fatalf("%d sub-windows exported; want 2 (minutes 0 and 3)", len(carried.Slots))
	}

	var next Window
	addWindow(&next, "late-", 500, at(4*time.Minute)) // some come back to the new process
	addWindow(&next, "new-", 1_000, at(4*time.Minute))
	next.Import(carried, at(4*time.Minute))
	within(t, next.Sketch(at(4*time.Minute)).Estimate(), 4_000)
	// The carried users leave the window when they would have left the old one.
	within(t, next.Sketch(at(6*time.Minute+time.Second)).Estimate(), 2_000)
	within(t, next.Sketch(at(9*time.Minute)).Estimate(), 1_500)
}

func TestWindow_ImportSkips(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC).UnixNano()
	var old Window
	addWindow(&old, "u", 100, now)
	exp := old.Export(now)

	var other Window
	other.SetLength(time.Minute)
	other.Import(exp, now)
	if got := other.Sketch(now).Estimate(); got != 0 {
		t.Errorf("another window length: estimate %.1f after the import; want 0 (skipped)", got)
	}
	var later Window
	later.Import(exp, now+int64(7*time.Minute))
	if got := later.Sketch(now + int64(7*time.Minute)).Estimate(); got != 0 {
		t.Errorf("out of the window: estimate %.1f after the import; want 0 (skipped)", got)
	}
	bad := Slots{Span: exp.Span, Slots: []Slot{{Epoch: exp.Slots[0].Epoch, Users: Sketch{1, 2, 3}}}}
	var w Window
	w.Import(bad, now)
	if got := w.Sketch(now).Estimate(); got != 0 {
		t.Errorf("a short sketch: estimate %.1f after the import; want 0 (skipped)", got)
	}
}

// TestWindow_ImportConcurrentWithAdd imports while users are added to
// the same sub-window (run it with -race): every user of both ends up
// counted. (While a slot is being cleared for a new sub-window, Add skips
// its users, by design: the sub-window is counted from the first user
// seen before it.)
func TestWindow_ImportConcurrentWithAdd(t *testing.T) {
	now := time.Now().UnixNano()
	var old, next Window
	addWindow(&old, "old-", 3_000, now)
	exp := old.Export(now)
	addWindow(&next, "new-", 1, now) // the sub-window is live in next
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); addWindow(&next, "new-", 3_000, now) }()
	go func() { defer wg.Done(); next.Import(exp, now) }()
	wg.Wait()
	within(t, next.Sketch(now).Estimate(), 6_000)
}
