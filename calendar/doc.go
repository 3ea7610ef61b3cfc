// Package calendar owns when an environment may change: weekly release
// windows ("Sun 02:00-04:00 UTC") and code-freeze periods (date ranges).
// It parses them and answers, as plain functions of a time, whether a
// change is allowed now and when the next opening is. It does no I/O and
// reads no clock.
//
// # Window grammar
//
//	WINDOW = DAYS " " HH:MM "-" HH:MM [ " " ZONE ]
//	DAYS   = "daily" | "*" | DAY { "," DAY } | DAY "-" DAY { "," ... }
//	DAY    = Mon | Tue | Wed | Thu | Fri | Sat | Sun (any case; full names too)
//	ZONE   = UTC (the default) | an IANA time zone such as Europe/Berlin
//
// Examples: "Sun 02:00-04:00 UTC", "Mon-Thu 09:00-16:00 Europe/Berlin",
// "Sat,Sun 00:00-24:00", "daily 22:00-02:00" (an end at or before the
// start runs past midnight into the next day). The days name the day the
// window starts on. The start is inclusive, the end exclusive.
//
// # Freezes
//
// A freeze runs from its start (an RFC 3339 time, or a date meaning 00:00
// UTC that day) until its end (an RFC 3339 time, exclusive, or a date
// meaning the whole of that day is frozen).
package calendar
