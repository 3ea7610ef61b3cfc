package outage

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// clock is a fake clock the test moves.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestLog(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	var lines []string
	l := New(Options{What: "reconcile", Now: c.now, Remind: 10 * time.Second, MaxRemind: 40 * time.Second,
		Logf: func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }})

	l.Succeeded()
	if len(lines) != 0 {
		t.Fatalf("success with no outage logged %q", lines)
	}
	// An attempt every 250ms for 100s, each with its own error text (a
	// connection's local port, say).
	for i := range 400 {
		l.Failed(fmt.Errorf("read tcp 127.0.0.1:%d->127.0.0.1:5432: connection reset", 40000+i))
		c.t = c.t.Add(250 * time.Millisecond)
	}
	// Reports at 0s, then after 10s, 20s, 40s and 40s: 0, 10, 30, 70 (the
	// next would be at 110).
	if len(lines) != 4 {
		t.Fatalf("400 failures over 100s logged %d lines, want the first and 3 reminders: %q", len(lines), lines)
	}
	if !strings.HasPrefix(lines[0], "reconcile: read tcp 127.0.0.1:40000->") || !strings.Contains(lines[0], "reported again in 10s") {
		t.Errorf("first line = %q", lines[0])
	}
	if want := "reconcile still failing for 10s: 41 failed attempt(s), 40 since the last report; latest: read tcp 127.0.0.1:40040->"; !strings.HasPrefix(lines[1], want) {
		t.Errorf("first reminder = %q, want it to begin %q", lines[1], want)
	}
	if want := "still failing for 1m10s: 281 failed attempt(s), 160 since the last report"; !strings.Contains(lines[3], want) || !strings.HasSuffix(lines[3], "(next report in 40s)") {
		t.Errorf("third reminder = %q, want %q and the capped back-off", lines[3], want)
	}
	if !l.Failing() {
		t.Error("Failing = false during the outage")
	}

	l.Succeeded()
	l.Succeeded()
	if len(lines) != 5 || lines[4] != "reconcile works again after 1m40s and 400 failed attempt(s)" {
		t.Fatalf("recovery logged %q, want one line with the outage's length and count", lines[4:])
	}
	// A new outage is reported at once, with the first back-off.
	l.Failed(errors.New("disk full"))
	if len(lines) != 6 || !strings.HasPrefix(lines[5], "reconcile: disk full") || !strings.Contains(lines[5], "in 10s") {
		t.Errorf("a new outage logged %q", lines[5:])
	}
}
