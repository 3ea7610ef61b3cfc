package activeusers

import (
	"fmt"
	"sync/atomic"
	"time"
)

// DefaultWindow is the window a Window counts users over when none is set:
// the deployment plan's five minutes.
const DefaultWindow = 5 * time.Minute

// MinWindow and MaxWindow bound a window's length.
const (
	MinWindow = 10 * time.Second
	MaxWindow = 24 * time.Hour
)

// ValidateWindow reports a window out of bounds, saying how to fix it.
func ValidateWindow(d time.Duration) error {
	if d < MinWindow || d > MaxWindow {
		return fmt.Errorf("active users window %v is out of bounds; use a duration from %v to %v, such as 5m", d, MinWindow, MaxWindow)
	}
	return nil
}

// spans is the number of sub-windows a window is cut into; a Window keeps
// one more slot, so that the whole window stays counted while the oldest
// slot is being reused.
const spans = 5

// Window counts users over a sliding window: the users added during the
// last window length, up to one fifth of it more (the window moves by
// fifths). Its zero value counts over DefaultWindow. Add is safe for
// concurrent use with itself and every other method, takes no lock and
// allocates nothing; a Window holds 6 × 4 KiB of registers.
type Window struct {
	span  atomic.Int64 // sub-window length in nanoseconds; 0: DefaultWindow/spans
	slots [spans + 1]slot
}

// slot holds the registers of one sub-window, four per word.
type slot struct {
	// epoch is the sub-window counted (unix nanoseconds / span), 0 for
	// none yet, -1 while its registers are being cleared for a new one.
	epoch atomic.Int64
	regs  [Registers / 4]atomic.Uint32
}

// SetLength sets the window's length (zero: DefaultWindow); a length that
// changes forgets the users counted so far. Callers validate d first.
func (w *Window) SetLength(d time.Duration) {
	if d <= 0 {
		d = DefaultWindow
	}
	span := int64((d + spans - 1) / spans)
	if old := w.span.Swap(span); old != span && old != 0 {
		for i := range w.slots {
			w.slots[i].epoch.Store(0)
		}
	}
}

// Length returns the window's length.
func (w *Window) Length() time.Duration { return time.Duration(w.spanNanos() * spans) }

func (w *Window) spanNanos() int64 {
	if s := w.span.Load(); s > 0 {
		return s
	}
	return int64(DefaultWindow / spans)
}

// Add records the user whose hash (Hash) is h at now (unix nanoseconds).
// The common case, a user already counted in this sub-window, only reads.
func (w *Window) Add(h uint64, now int64) {
	e := now / w.spanNanos()
	s := &w.slots[e%int64(len(w.slots))]
	if ep := s.epoch.Load(); ep != e {
		if ep < 0 || ep > e || !s.turn(ep, e) {
			return // being cleared, or the clock went back: skip this one
		}
	}
	i, r := position(h)
	word, shift := &s.regs[i>>2], uint(i&3)*8
	for {
		old := word.Load()
		if uint8(old>>shift) >= r {
			return
		}
		if word.CompareAndSwap(old, old&^(0xff<<shift)|uint32(r)<<shift) {
			return
		}
	}
}

// turn clears s for sub-window e; false when another Add is doing it. A
// user added concurrently by an Add that read the previous epoch may stay
// counted in the new sub-window: a negligible overcount, once per turn.
func (s *slot) turn(from, e int64) bool {
	if !s.epoch.CompareAndSwap(from, -1) {
		return false
	}
	for i := range s.regs {
		s.regs[i].Store(0)
	}
	s.epoch.Store(e)
	return true
}

// Sketch returns the users of the window ending at now (unix
// nanoseconds), merged into one sketch; nil when none.
func (w *Window) Sketch(now int64) Sketch {
	var out Sketch
	w.MergeInto(&out, now)
	return out
}

// MergeInto merges the users of the window ending at now into dst.
func (w *Window) MergeInto(dst *Sketch, now int64) {
	e := now / w.spanNanos()
	for i := range w.slots {
		s := &w.slots[i]
		if ep := s.epoch.Load(); ep <= 0 || ep > e || ep < e-spans {
			continue
		}
		if len(*dst) == 0 {
			*dst = make(Sketch, Registers)
		}
		d := *dst
		for j := range s.regs {
			v := s.regs[j].Load()
			for k := 0; k < 4; k++ {
				d[4*j+k] = max(d[4*j+k], uint8(v>>(8*k)))
			}
		}
	}
}
