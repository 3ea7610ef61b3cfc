package calendar

import (
	"strings"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseWindow_Bad(t *testing.T) {
	for _, tc := range []struct{ in, fragment string }{
		{"Sun", "is not a window"},
		{"Sunday-ish 02:00-04:00", `"ish" is not a day`},
		{"Sun 2:00-04:00", `"2:00" is not a time of day`},
		{"Sun 02:00-25:00", "hours 00-23"},
		{"Sun 02:00", "need a start and an end"},
		{"Sun 02:00-02:00", "a window must last"},
		{"Sun 02:00-04:00 Mars/Olympus", "is not a time zone"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseWindow(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.fragment) {
				t.Fatalf("ParseWindow(%q) = %v, want an error with %q", tc.in, err, tc.fragment)
			}
		})
	}
}

func TestCalendar_Check(t *testing.T) {
	sunday, _ := ParseWindow("Sun 02:00-04:00 UTC")
	nightly, _ := ParseWindow("Mon-Fri 22:00-02:00")
	berlin, _ := ParseWindow("Sat 10:00-11:00 Europe/Berlin")
	xmas, _ := ParseFreeze("2026-12-20", "2027-01-02", "year-end")
	tests := []struct {
		name     string
		cal      Calendar
		now      string
		open     bool
		next     string
		fragment string
	}{
		{"no windows", Calendar{}, "2026-11-25T12:00:00Z", true, "", "no release window"},
		{"inside", Calendar{Windows: []Window{sunday}}, "2026-11-29T02:30:00Z", true, "", "closes 2026-11-29 04:00 UTC"},
		{"end is exclusive", Calendar{Windows: []Window{sunday}}, "2026-11-29T04:00:00Z", false, "2026-12-06T02:00:00Z", "outside the release windows"},
		{"before, same day", Calendar{Windows: []Window{sunday}}, "2026-11-29T01:00:00Z", false, "2026-11-29T02:00:00Z", "next window opens 2026-11-29 02:00 UTC (Sun)"},
		{"midweek", Calendar{Windows: []Window{sunday}}, "2026-11-25T12:00:00Z", false, "2026-11-29T02:00:00Z", ""},
		{"past midnight, next morning", Calendar{Windows: []Window{nightly}}, "2026-11-28T01:00:00Z", true, "", ""},
		{"past midnight, Saturday night", Calendar{Windows: []Window{nightly}}, "2026-11-29T01:00:00Z", false, "2026-11-30T22:00:00Z", ""},
		{"zone", Calendar{Windows: []Window{berlin}}, "2026-11-28T09:30:00Z", true, "", ""},
		{"zone, summer time", Calendar{Windows: []Window{berlin}}, "2026-07-04T08:30:00Z", true, "", ""},
		{"frozen", Calendar{Windows: []Window{sunday}, Freezes: []Freeze{xmas}}, "2026-12-27T02:30:00Z", false, "2027-01-03T02:00:00Z", "code freeze (year-end)"},
		{"end date is inclusive", Calendar{Freezes: []Freeze{xmas}}, "2027-01-02T23:59:00Z", false, "2027-01-03T00:00:00Z", ""},
		{"after the freeze", Calendar{Freezes: []Freeze{xmas}}, "2027-01-03T00:00:00Z", true, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.cal.Check(at(tc.now))
			if v.Open != tc.open {
				t.Fatalf("Open = %v, want %v (%s)", v.Open, tc.open, v.Reason)
			}
			if tc.next != "" && !v.Next.Equal(at(tc.next)) {
				t.Errorf("Next = %s, want %s", v.Next, tc.next)
			}
			if !strings.Contains(v.Reason, tc.fragment) {
				t.Errorf("Reason = %q, want it to contain %q", v.Reason, tc.fragment)
			}
		})
	}
}
