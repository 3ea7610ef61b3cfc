//go:build linux

package proxy

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestEvLoop_deadlines: deadlines are rounded up to the loop's grid (never
// earlier, less than a tick later), and a loop's due time is its earliest
// deadline: a connection's, a hung-up client's next check, an idle
// upstream connection's expiry; a deadline moved later is found by the
// next expire.
func TestEvLoop_deadlines(t *testing.T) {
	t0 := time.Now()
	tick := 100 * time.Millisecond
	l := &evLoop{base: t0, tick: tick, conns: map[*clientConn]struct{}{}, idle: map[*endpoint][]*upstreamConn{}}
	for _, d := range []time.Duration{-time.Second, 0, 1, tick - 1, tick, tick + 1, 75*time.Second + 3} {
		at := t0.Add(d)
		got := l.round(at)
		if got.Before(at) || !got.Before(at.Add(tick)) || d > 0 && got.Sub(t0)%tick != 0 {
			t.Errorf("round(start%+v) = start%+v, want the first multiple of %v from start at or after it", d, got.Sub(t0), tick)
		}
	}

	idleConn, awaiting := &clientConn{}, &clientConn{}
	l.conns[idleConn], l.conns[awaiting] = struct{}{}, struct{}{}
	l.setDeadline(idleConn, t0.Add(1050*time.Millisecond))
	l.setDeadline(awaiting, t0.Add(2*time.Second))
	if want := t0.Add(1100 * time.Millisecond); !l.due.Equal(want) {
		t.Errorf("due start%+v, want the earliest deadline rounded up, start+1.1s", l.due.Sub(t0))
	}
	awaiting.ev.phase, awaiting.ev.hungUp = evAwait, true
	l.watch(awaiting, t0.Add(-500*time.Millisecond)) // checked watchInterval (1s) after
	ep := &endpoint{idleTimeout: 700 * time.Millisecond}
	fd, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0) // what closing the pooled connection closes
	if err != nil {
		t.Fatal(err)
	}
	uc := &upstreamConn{ep: ep, fd: fd, idleSince: t0.Add(50 * time.Millisecond)}
	l.idle[ep] = []*upstreamConn{uc}
	l.poolExpiry(uc)
	steps := []struct {
		now  time.Duration
		move time.Duration // idleConn's deadline, moved later (as by a request) before expire
		want time.Duration
	}{
		{now: 200 * time.Millisecond, want: 500 * time.Millisecond},                        // the hung-up client's check
		{now: 600 * time.Millisecond, move: 5 * time.Second, want: 800 * time.Millisecond}, // the pooled connection's expiry (0.75s, rounded)
		{now: 900 * time.Millisecond, want: 2 * time.Second},                               // the pool is empty, idleConn moved: awaiting's
	}
	l.due = t0.Add(500 * time.Millisecond)
	for _, s := range steps {
		if s.move != 0 {
			idleConn.ev.deadline = l.round(t0.Add(s.move)) // later: due is left as it was
		}
		if s.now == 600*time.Millisecond {
			awaiting.ev.hungUp = false // the check found the client there; no more checks
		}
		l.now = t0.Add(s.now)
		l.expire()
		if got := l.due.Sub(t0); got != s.want {
			t.Errorf("after expire at start+%v: due start+%v, want start+%v", s.now, got, s.want)
		}
	}
	if len(l.idle) != 0 {
		t.Errorf("the pooled connection idle for its timeout is still in the pool")
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
		t.Errorf("the pooled connection idle for its timeout is still open")
		unix.Close(fd)
	}
}
