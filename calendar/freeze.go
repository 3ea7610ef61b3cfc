package calendar

import (
	"fmt"
	"time"
)

// Freeze is a period in which no change is allowed.
type Freeze struct {
	// From is the first frozen instant.
	From time.Time
	// Until is the first instant after the freeze.
	Until time.Time
	// Reason says why, such as "year-end freeze"; may be empty.
	Reason string
}

// ParseFreeze reads a freeze's start and end: each an RFC 3339 time or a
// date (YYYY-MM-DD, UTC). A start date means 00:00 that day; an end date
// means the whole day is frozen (until 00:00 the next day).
func ParseFreeze(from, until, reason string) (Freeze, error) {
	f := Freeze{Reason: reason}
	var err error
	if f.From, err = instant(from, false); err != nil {
		return f, fmt.Errorf("from: %w", err)
	}
	if f.Until, err = instant(until, true); err != nil {
		return f, fmt.Errorf("until: %w", err)
	}
	if !f.Until.After(f.From) {
		return f, fmt.Errorf("until %s is not after from %s; a freeze must end after it starts", until, from)
	}
	return f, nil
}

func instant(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("required; write a date such as 2026-12-20 or a time such as 2026-12-20T18:00:00Z")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (2026-12-20) nor an RFC 3339 time (2026-12-20T18:00:00Z)", s)
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

// Contains says whether t is frozen.
func (f Freeze) Contains(t time.Time) bool { return !t.Before(f.From) && t.Before(f.Until) }
