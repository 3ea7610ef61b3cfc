// Package outage logs a failure that repeats (a database that is down, a
// store that refuses every write) once when it begins, then as reminders
// with a count and a back-off, and once when it ends, instead of once per
// attempt.
package outage

import (
	"fmt"
	"sync"
	"time"
)

// Options configure a Log.
type Options struct {
	// What names the work that fails, as the log lines begin: "reconcile",
	// "leader election". Required.
	What string
	// Logf receives the lines; nil: silent.
	Logf func(format string, args ...any)
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Remind is how long after the first line the first reminder may come;
	// each later one waits twice as long as the one before, up to
	// MaxRemind. Zero: 30s and 10m.
	Remind, MaxRemind time.Duration
}

// Log follows one kind of work through its failures. Safe for concurrent use.
type Log struct {
	opts Options

	mu       sync.Mutex
	failing  bool
	since    time.Time // the first failure of this outage
	failures int       // in this outage
	unsaid   int       // failures since the last line
	next     time.Time // no reminder before
	wait     time.Duration
}

// New returns a Log.
func New(opts Options) *Log {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Remind <= 0 {
		opts.Remind = 30 * time.Second
	}
	if opts.MaxRemind <= 0 {
		opts.MaxRemind = 10 * time.Minute
	}
	return &Log{opts: opts}
}

// Failed records one failed attempt: the first of an outage is logged at
// once; later ones only as a reminder, at most once per back-off, with how
// many failed since the outage began and the latest error.
func (l *Log) Failed(err error) {
	now := l.opts.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures++
	l.unsaid++
	if !l.failing {
		l.failing, l.since, l.wait = true, now, l.opts.Remind
		l.next, l.unsaid = now.Add(l.wait), 0
		l.opts.Logf("%s: %v (failing; retried quietly, reported again in %s unless it recovers)", l.opts.What, err, l.wait)
		return
	}
	if now.Before(l.next) {
		return
	}
	l.wait = min(2*l.wait, l.opts.MaxRemind)
	l.opts.Logf("%s still failing for %s: %d failed attempt(s), %d since the last report; latest: %v (next report in %s)",
		l.opts.What, round(now.Sub(l.since)), l.failures, l.unsaid, err, l.wait)
	l.next, l.unsaid = now.Add(l.wait), 0
}

// Succeeded records a successful attempt; the first after an outage is
// logged with the outage's length and count.
func (l *Log) Succeeded() {
	now := l.opts.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.failing {
		return
	}
	l.opts.Logf("%s works again after %s and %d failed attempt(s)", l.opts.What, round(now.Sub(l.since)), l.failures)
	l.failing, l.failures, l.unsaid = false, 0, 0
}

// Failing reports whether the last attempt failed.
func (l *Log) Failing() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failing
}

func round(d time.Duration) string {
	if d >= time.Second {
		d = d.Round(time.Second)
	}
	return fmt.Sprint(d)
}
