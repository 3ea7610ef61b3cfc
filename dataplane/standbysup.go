package dataplane

import (
	"context"
	"path/filepath"
	"syscall"
	"time"
)

// The supervisor's side of the warm standby: keepStandby keeps one
// `gantry proxy --standby` running beside the active data plane (adopting
// one a previous server left), and check hands over to it when the active
// process dies.

// standbyProc is the standby the supervisor knows.
type standbyProc struct {
	boot   Boot
	exited <-chan error // nil when adopted
}

// Standby timings: how often the standby's health is checked, how long a
// standby may take to serve the control socket once the active process
// is gone before the supervisor falls back to starting a process itself,
// and the bounds of the wait between failed starts.
const (
	standbyCheck    = time.Second
	standbyTakeover = 3 * time.Second
	standbyBackoff  = time.Second
	standbyMaxWait  = 30 * time.Second
)

// keepStandby keeps a standby running until ctx ends.
func (s *Supervisor) keepStandby(ctx context.Context) {
	client := NewClient(filepath.Join(s.opts.DataDir, StandbyFile))
	defer client.CloseIdle()
	t := time.NewTicker(standbyCheck)
	defer t.Stop()
	backoff := standbyBackoff
	for ctx.Err() == nil {
		sb := s.currentStandby()
		if sb == nil {
			starting := make(chan struct{})
			s.mu.Lock()
			s.starting = starting
			s.mu.Unlock()
			var err error
			sb, err = s.adoptOrStartStandby(ctx, client)
			if err == nil {
				s.awaitFollowing(ctx, client, sb)
			}
			s.mu.Lock()
			s.starting = nil
			if err == nil {
				s.standby = sb
			}
			s.mu.Unlock()
			close(starting)
			if err != nil {
				s.opts.Logf("standby data plane: %v; trying again in %v", err, backoff)
				select {
				case <-ctx.Done():
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, standbyMaxWait)
				continue
			}
			backoff = standbyBackoff
		}
		select {
		case <-ctx.Done():
			return
		case <-sb.exited:
			s.dropStandby(sb, "exited")
		case <-s.standbyUsed:
		case <-t.C:
			l, err := client.Check(ctx)
			switch {
			case err == nil && l.Boot.PID == sb.boot.PID:
			case !Alive(sb.boot.PID) || zombie(sb.boot.PID):
				s.dropStandby(sb, "is gone")
			}
		}
	}
}

// adoptOrStartStandby adopts the standby answering on the standby socket
// when it runs this binary, else stops it and starts one.
func (s *Supervisor) adoptOrStartStandby(ctx context.Context, client *Client) (*standbyProc, error) {
	if l, err := client.Check(ctx); err == nil && l.Standby != nil {
		self := SelfID()
		if l.Boot.Binary == self || self == "" {
			s.opts.Logf("standby data plane %s (pid %d) adopted", l.Boot.ID, l.Boot.PID)
			return &standbyProc{boot: l.Boot}, nil
		}
		s.opts.Logf("standby data plane pid %d runs another binary: replacing it", l.Boot.PID)
		stopPID(ctx, l.Boot.PID)
	}
	b, exited, err := Start(ctx, s.opts.Command, s.opts.DataDir, StartOptions{Standby: true})
	if err != nil {
		return nil, err
	}
	s.opts.Logf("standby data plane %s started (pid %d)", b.ID, b.PID)
	return &standbyProc{boot: b, exited: exited}, nil
}

// currentStandby returns the standby, nil if none.
func (s *Supervisor) currentStandby() *standbyProc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.standby
}

// dropStandby forgets sb (if still the standby) so a new one is started.
func (s *Supervisor) dropStandby(sb *standbyProc, why string) {
	s.mu.Lock()
	if s.standby == sb {
		s.standby = nil
	}
	s.mu.Unlock()
	s.opts.Logf("standby data plane pid %d %s; starting another", sb.boot.PID, why)
}

// takeStandby removes and returns the standby, nil if none.
func (s *Supervisor) takeStandby() *standbyProc {
	s.mu.Lock()
	defer s.mu.Unlock()
	sb := s.standby
	s.standby = nil
	return sb
}

// awaitFollowing waits (up to standbyTakeover) for sb to hold the active
// process's listeners and tables, so that a standby the supervisor
// reports (Health.StandbyPID) is one that can take over. A standby
// still reading its first frame when the active process dies takes over
// all the same: awaitSuccession waits for it.
func (s *Supervisor) awaitFollowing(ctx context.Context, client *Client, sb *standbyProc) {
	deadline := time.Now().Add(standbyTakeover)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		if l, err := client.Check(ctx); err == nil && l.Boot.PID == sb.boot.PID && l.Standby != nil && l.Standby.Following != "" {
			return
		}
		if !Alive(sb.boot.PID) || zombie(sb.boot.PID) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.opts.Logf("standby data plane pid %d holds nothing of the active one after %v", sb.boot.PID, standbyTakeover)
}

// awaitStandbyStart waits for a standby being started, if any, to be
// known: it may have read the dead process's stream before its death and
// take over. It reports whether one was being started.
func (s *Supervisor) awaitStandbyStart(ctx context.Context) bool {
	s.mu.Lock()
	starting := s.starting
	s.mu.Unlock()
	if starting == nil {
		return false
	}
	select {
	case <-starting:
	case <-ctx.Done():
	case <-time.After(standbyTakeover):
	}
	return true
}

// awaitSuccession waits for sb to serve the control socket after the
// active process (boot dead) died; false when it did not within
// standbyTakeover, or at once when sb follows another process than the
// dead one. A standby that follows none yet may be reading the dead one's
// first frame, and then takes over: it is waited for, not killed in the
// middle of its takeover.
func (s *Supervisor) awaitSuccession(ctx context.Context, sb *standbyProc, dead string) (Liveness, bool) {
	if sb == nil {
		return Liveness{}, false
	}
	standby := NewClient(filepath.Join(s.opts.DataDir, StandbyFile))
	defer standby.CloseIdle()
	deadline := time.Now().Add(standbyTakeover)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		l, err := s.client.Check(ctx)
		if err == nil && l.Boot.PID == sb.boot.PID {
			return l, true
		}
		if sl, err := standby.Check(ctx); err == nil && sl.Boot.PID == sb.boot.PID && sl.Standby != nil && sl.Standby.Following != "" && sl.Standby.Following != dead {
			return Liveness{}, false
		}
		if !Alive(sb.boot.PID) || zombie(sb.boot.PID) {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	return Liveness{}, false
}

// succeeded records the takeover by a standby of the data plane h named:
// l is the standby's first answer as the active one.
func (s *Supervisor) succeeded(h Health, l Liveness, lastOK time.Time, lost int64, exited <-chan error) {
	crash := &Crash{PID: h.Boot.PID, Boot: h.Boot.ID, NewPID: l.Boot.PID, NewBoot: l.Boot.ID,
		LastAnswer: lastOK, InFlight: lost, Standby: true}
	if sc := l.Boot.Succeeded; sc != nil {
		crash.DetectedAt, crash.ServingAt, crash.Held, crash.Queued = sc.SeenAt, sc.ServingAt, sc.Listeners, sc.Queued
	} else { // not expected: a standby always says whom it succeeded
		crash.DetectedAt, crash.ServingAt = time.Now(), time.Now()
	}
	s.mu.Lock()
	s.exited, s.lastOK = exited, time.Now()
	s.mu.Unlock()
	select {
	case s.standbyUsed <- struct{}{}:
	default:
	}
	s.set(Health{State: Up, Boot: l.Boot, Restarts: h.Restarts + 1, Lost: lost, LastCrash: crash, Reason: crash.String()})
}

// stopPID sends pid SIGTERM and waits (up to 5 s, or ctx) for it to end.
func stopPID(ctx context.Context, pid int) {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for Alive(pid) && !zombie(pid) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
}

// standbyExit returns the exit channel of the standby with pid (taking it
// from the supervisor: it is the data plane now); nil when it was adopted
// or is not the standby.
func (s *Supervisor) standbyExit(pid int) <-chan error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sb := s.standby; sb != nil && sb.boot.PID == pid {
		s.standby = nil
		return sb.exited
	}
	return nil
}
