package activeusers

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Slots are a Window's live sub-windows, in the form that travels to
// another process: a data plane hands them to the process that takes its
// listeners over, so the users it served since anything last read it stay
// counted there, and leave the window when they would have here.
type Slots struct {
	// Span is the length of one sub-window (the window's length / 5).
	Span time.Duration
	// Slots are the sub-windows with users, at most six.
	Slots []Slot `json:",omitempty"`
}

// Slot is the users of one sub-window.
type Slot struct {
	// Epoch numbers the sub-window: unix nanoseconds / Span.
	Epoch int64
	// Users are its registers (Registers bytes).
	Users Sketch
}

// Export returns the sub-windows of w that count toward the window ending
// at now (unix nanoseconds); no Slots when none has users.
func (w *Window) Export(now int64) Slots {
	span := w.spanNanos()
	out := Slots{Span: time.Duration(span)}
	e := now / span
	for i := range w.slots {
		s := &w.slots[i]
		ep := s.epoch.Load()
		if ep <= 0 || ep > e || ep < e-spans {
			continue
		}
		regs := make(Sketch, Registers)
		for j := range s.regs {
			v := s.regs[j].Load()
			for k := 0; k < 4; k++ {
				regs[4*j+k] = uint8(v >> (8 * k))
			}
		}
		if s.epoch.Load() != ep {
			continue // reused for a newer sub-window meanwhile
		}
		out.Slots = append(out.Slots, Slot{Epoch: ep, Users: regs})
	}
	return out
}

// Import merges exported sub-windows into w, read at now (unix
// nanoseconds): each joins the sub-window with the same epoch, so its
// users leave the window when they would have in w. Sub-windows of
// another span (the window's length changed), out of the window ending at
// now, or not valid sketches are skipped. Safe for concurrent use with Add.
func (w *Window) Import(s Slots, now int64) {
	span := w.spanNanos()
	if int64(s.Span) != span {
		return
	}
	e := now / span
	for _, in := range s.Slots {
		if in.Epoch <= 0 || in.Epoch > e || in.Epoch < e-spans || len(in.Users) != Registers || in.Users.Validate() != nil {
			continue
		}
		w.importSlot(in)
	}
}

// importSlot merges in into the slot of its epoch, turning that slot to it
// when it holds an older sub-window.
func (w *Window) importSlot(in Slot) {
	s := &w.slots[in.Epoch%int64(len(w.slots))]
	for {
		ep := s.epoch.Load()
		if ep > in.Epoch {
			return // a newer sub-window took the slot: in is out of the window
		}
		if ep == in.Epoch {
			break
		}
		if ep >= 0 && s.turn(ep, in.Epoch) {
			break
		}
		runtime.Gosched() // another goroutine is turning the slot
	}
	for j := range s.regs {
		var v uint32
		for k := 0; k < 4; k++ {
			v |= uint32(in.Users[4*j+k]) << (8 * k)
		}
		mergeWord(&s.regs[j], v)
	}
}

// mergeWord raises each of word's four registers to v's, if higher.
func mergeWord(word *atomic.Uint32, v uint32) {
	for {
		old := word.Load()
		merged := old
		for k := uint(0); k < 32; k += 8 {
			if r := v >> k & 0xff; r > merged>>k&0xff {
				merged = merged&^(0xff<<k) | r<<k
			}
		}
		if merged == old || word.CompareAndSwap(old, merged) {
			return
		}
	}
}
