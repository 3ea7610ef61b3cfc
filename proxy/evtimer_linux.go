//go:build linux

package proxy

import (
	"math"
	"time"
)

// A loop's timers. A loop parks until its earliest deadline: a client
// connection's (evConn.deadline), the next check on a client that hung up
// while its response is awaited (evConn.watchAt), and the expiry of the
// oldest idle upstream connection of each endpoint. Nothing else wakes it:
// a loop holding only idle kept-alive clients sleeps until the first of
// them reaches IdleTimeout, and an empty loop has no deadline at all.
//
// Every deadline is rounded up to a multiple of the loop's tick (an eighth
// of its shortest timeout, at most 250 ms) counted from the loop's start,
// so each timeout is still enforced within an eighth of its value, and
// deadlines set by a stream of requests fall on few distinct times.
//
// l.due is a lower bound of the deadlines, lowered as each is set and
// never raised then (a deadline that moves later, as a kept-alive
// connection's does with each request, leaves it as it was): when it
// passes, expire acts on what is due and computes it again from every
// connection. As the deadlines lie on the grid, that scan runs at most
// once per tick, and only when something was set to fall due then.

// round returns t rounded up to the loop's grid (t itself when it is not
// after the loop's start). The result keeps the monotonic clock reading.
func (l *evLoop) round(t time.Time) time.Time {
	d := t.Sub(l.base)
	if d <= 0 || d > math.MaxInt64-l.tick {
		return t
	}
	return l.base.Add((d + l.tick - 1) / l.tick * l.tick)
}

// fold lowers l.due to t, when t is set and earlier.
func (l *evLoop) fold(t time.Time) {
	if !t.IsZero() && (l.due.IsZero() || t.Before(l.due)) {
		l.due = t
	}
}

// setDeadline sets when c's phase times out: t, rounded up to the grid.
func (l *evLoop) setDeadline(c *clientConn, t time.Time) {
	c.ev.deadline = l.round(t)
	l.fold(c.ev.deadline)
}

// watch sets when to check again on c, whose client hung up while its
// response is awaited: watchInterval after t.
func (l *evLoop) watch(c *clientConn, t time.Time) {
	c.ev.watchAt = l.round(t.Add(watchInterval))
	l.fold(c.ev.watchAt)
}

// poolExpiry folds into l.due when uc, idle in the pool since now, reaches
// its endpoint's idle timeout.
func (l *evLoop) poolExpiry(uc *upstreamConn) {
	l.fold(l.round(uc.idleSince.Add(uc.ep.idleTimeout)))
}

// expire acts on the deadlines that passed, checks on clients that hung
// up while their exchange runs, sweeps the idle upstream pool, and sets
// l.due to the earliest deadline left.
func (l *evLoop) expire() {
	l.due = time.Time{}
	for c := range l.conns {
		ex := &c.ev
		awaitHungUp := ex.phase == evAwait && ex.hungUp
		if awaitHungUp && !l.now.Before(ex.watchAt) {
			if c.clientGone() {
				l.abandon(c)
				continue
			}
			l.watch(c, l.now)
		}
		if !ex.deadline.IsZero() && !l.now.Before(ex.deadline) {
			ex.deadline = time.Time{}
			l.timeout(c) // a deadline it sets next is folded in by setDeadline
			continue
		}
		l.fold(ex.deadline)
		if awaitHungUp {
			l.fold(ex.watchAt)
		}
	}
	l.sweep()
}
