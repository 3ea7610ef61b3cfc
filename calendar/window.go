package calendar

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // zones resolve on machines without a zoneinfo database
)

// Window is a weekly period in which changes are allowed.
type Window struct {
	// Days are the weekdays the window starts on, indexed by time.Weekday.
	Days [7]bool
	// Start and End are offsets from midnight in Location; End is at most
	// 24h. End at or before Start: the window runs past midnight.
	Start, End time.Duration
	// Location is the zone the times are read in; never nil after Parse.
	Location *time.Location
	// Text is the window as written.
	Text string
}

// String returns the window as written.
func (w Window) String() string { return w.Text }

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// ParseWindow reads a window in the package's grammar, such as
// "Sun 02:00-04:00 UTC". Its errors say what part is wrong and show an
// example.
func ParseWindow(s string) (Window, error) {
	w := Window{Text: s, Location: time.UTC}
	f := strings.Fields(s)
	if len(f) < 2 || len(f) > 3 {
		return w, fmt.Errorf("%q is not a window: write DAYS HH:MM-HH:MM [ZONE], such as \"Sun 02:00-04:00 UTC\"", s)
	}
	if err := w.parseDays(f[0]); err != nil {
		return w, fmt.Errorf("window %q: %w", s, err)
	}
	from, to, ok := strings.Cut(f[1], "-")
	if !ok {
		return w, fmt.Errorf("window %q: times %q need a start and an end, such as 02:00-04:00", s, f[1])
	}
	var err error
	if w.Start, err = clock(from, false); err != nil {
		return w, fmt.Errorf("window %q: start: %w", s, err)
	}
	if w.End, err = clock(to, true); err != nil {
		return w, fmt.Errorf("window %q: end: %w", s, err)
	}
	if w.Start == w.End {
		return w, fmt.Errorf("window %q: start and end are both %s; a window must last, such as 02:00-04:00 (or 00:00-24:00 for the whole day)", s, from)
	}
	if len(f) == 3 {
		loc, err := time.LoadLocation(f[2])
		if err != nil || f[2] == "" || f[2] == "Local" {
			return w, fmt.Errorf("window %q: %q is not a time zone; use UTC or an IANA name such as Europe/Berlin", s, f[2])
		}
		w.Location = loc
	}
	return w, nil
}

// parseDays reads "daily", "*", "Mon-Fri", "Sat,Sun" or a mix of lists and ranges.
func (w *Window) parseDays(s string) error {
	if l := strings.ToLower(s); l == "daily" || l == "*" {
		for i := range w.Days {
			w.Days[i] = true
		}
		return nil
	}
	for part := range strings.SplitSeq(s, ",") {
		a, b, isRange := strings.Cut(part, "-")
		first, ok := dayNames[strings.ToLower(a)]
		if !ok {
			return fmt.Errorf("%q is not a day; use Mon, Tue, Wed, Thu, Fri, Sat, Sun, a range such as Mon-Fri, a list such as Sat,Sun, or daily", a)
		}
		last := first
		if isRange {
			if last, ok = dayNames[strings.ToLower(b)]; !ok {
				return fmt.Errorf("%q is not a day; use Mon, Tue, Wed, Thu, Fri, Sat or Sun", b)
			}
		}
		for d := first; ; d = (d + 1) % 7 {
			w.Days[d] = true
			if d == last {
				break
			}
		}
	}
	return nil
}

// clock reads HH:MM as an offset from midnight; 24:00 only when end is set.
func clock(s string, end bool) (time.Duration, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, herr := strconv.Atoi(hh)
	m, merr := strconv.Atoi(mm)
	switch {
	case !ok || herr != nil || merr != nil || len(hh) != 2 || len(mm) != 2:
		return 0, fmt.Errorf("%q is not a time of day; write HH:MM, such as 02:00", s)
	case h == 24 && m == 0 && end:
	case h < 0 || h > 23 || m < 0 || m > 59:
		return 0, fmt.Errorf("%q is not a time of day: hours 00-23, minutes 00-59 (24:00 only as an end)", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// wraps says whether the window runs past midnight.
func (w Window) wraps() bool { return w.End <= w.Start }

// Contains says whether t lies inside the window.
func (w Window) Contains(t time.Time) bool {
	t = t.In(w.Location)
	since := sinceMidnight(t)
	day := t.Weekday()
	if !w.wraps() {
		return w.Days[day] && since >= w.Start && since < w.End
	}
	yesterday := (day + 6) % 7
	return (w.Days[day] && since >= w.Start) || (w.Days[yesterday] && since < w.End)
}

// NextStart returns t when the window contains it, else the next time the
// window opens after t.
func (w Window) NextStart(t time.Time) time.Time {
	if w.Contains(t) {
		return t
	}
	local := t.In(w.Location)
	y, m, d := local.Date()
	for i := 0; i <= 8; i++ {
		day := time.Date(y, m, d+i, 0, 0, 0, 0, w.Location)
		if !w.Days[day.Weekday()] {
			continue
		}
		start := time.Date(y, m, d+i, int(w.Start/time.Hour), int(w.Start%time.Hour/time.Minute), 0, 0, w.Location)
		if start.After(t) {
			return start
		}
	}
	return time.Time{} // no day set: cannot happen for a parsed window
}

// EndAfter returns when the window containing t closes.
func (w Window) EndAfter(t time.Time) time.Time {
	local := t.In(w.Location)
	y, m, d := local.Date()
	for i := -1; i <= 1; i++ {
		startDay := time.Date(y, m, d+i, 0, 0, 0, 0, w.Location)
		if !w.Days[startDay.Weekday()] {
			continue
		}
		start := startDay.Add(w.Start)
		end := startDay.Add(w.End)
		if w.wraps() {
			end = end.Add(24 * time.Hour)
		}
		if !t.Before(start) && t.Before(end) {
			return end
		}
	}
	return t
}

func sinceMidnight(t time.Time) time.Duration {
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
		time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond())
}
