package calendar

import (
	"fmt"
	"strings"
	"time"
)

// Calendar is an environment's windows and freezes. The zero Calendar
// allows every change at any time.
type Calendar struct {
	// Windows are when changes are allowed; empty: at any time.
	Windows []Window
	// Freezes are when no change is allowed, windows or not.
	Freezes []Freeze
}

// Verdict is whether a change is allowed at a time, and why.
type Verdict struct {
	// Open: a change is allowed now.
	Open bool
	// Reason says why not (or which window allows it).
	Reason string
	// Next is when a change is next allowed; zero when Open, or when no
	// opening comes within a year.
	Next time.Time
}

// horizon bounds the search for the next opening.
const horizon = 366 * 24 * time.Hour

// Check says whether a change is allowed at now and, when it is not,
// when it next is.
func (c Calendar) Check(now time.Time) Verdict {
	if f, ok := c.freezeAt(now); ok {
		next := c.next(now)
		return Verdict{Reason: fmt.Sprintf("code freeze%s from %s until %s%s", about(f.Reason),
			stamp(f.From), stamp(f.Until), nextText(next)), Next: next}
	}
	if len(c.Windows) == 0 {
		return Verdict{Open: true, Reason: "no release window is required"}
	}
	for _, w := range c.Windows {
		if w.Contains(now) {
			return Verdict{Open: true, Reason: fmt.Sprintf("inside release window %q (closes %s)", w.Text, stamp(w.EndAfter(now)))}
		}
	}
	next := c.next(now)
	names := make([]string, len(c.Windows))
	for i, w := range c.Windows {
		names[i] = fmt.Sprintf("%q", w.Text)
	}
	return Verdict{Reason: fmt.Sprintf("outside the release windows (%s)%s", strings.Join(names, ", "), nextText(next)), Next: next}
}

// next returns the first instant at or after t that is in a window (or
// any, without windows) and in no freeze; zero beyond the horizon.
func (c Calendar) next(t time.Time) time.Time {
	limit := t.Add(horizon)
	for t.Before(limit) {
		if f, ok := c.freezeAt(t); ok {
			t = f.Until
			continue
		}
		if len(c.Windows) == 0 {
			return t
		}
		var best time.Time
		for _, w := range c.Windows {
			if s := w.NextStart(t); !s.IsZero() && (best.IsZero() || s.Before(best)) {
				best = s
			}
		}
		if best.IsZero() {
			return time.Time{}
		}
		if best.Equal(t) {
			return t
		}
		t = best
	}
	return time.Time{}
}

func (c Calendar) freezeAt(t time.Time) (Freeze, bool) {
	for _, f := range c.Freezes {
		if f.Contains(t) {
			return f, true
		}
	}
	return Freeze{}, false
}

func about(reason string) string {
	if reason == "" {
		return ""
	}
	return " (" + reason + ")"
}

func nextText(next time.Time) string {
	if next.IsZero() {
		return "; no opening within a year"
	}
	return "; next window opens " + stamp(next)
}

// stamp writes a time in UTC, to the minute: "2026-12-06 02:00 UTC (Sun)".
func stamp(t time.Time) string {
	u := t.UTC()
	return u.Format("2006-01-02 15:04 UTC") + " (" + u.Weekday().String()[:3] + ")"
}
