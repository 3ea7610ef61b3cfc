package dataplane

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// HealthState is how the control plane sees its data plane.
type HealthState int

const (
	// Up: it answered the last poll.
	Up HealthState = iota + 1
	// Stale: its process lives but has not answered for
	// SupervisorOptions.StaleAfter.
	Stale
	// Down: no process serves the socket; the supervisor is starting one.
	Down
)

func (s HealthState) String() string {
	switch s {
	case Up:
		return "Up"
	case Stale:
		return "Stale"
	case Down:
		return "Down"
	}
	return fmt.Sprintf("HealthState(%d)", int(s))
}

// Health is the data plane's state as the supervisor last saw it.
type Health struct {
	State HealthState
	// Boot is the run serving the socket (the last one seen when Down).
	Boot Boot
	// Since is when State began.
	Since time.Time
	// Reason explains a Stale or Down state; empty when Up.
	Reason string
	// Restarts counts the crashed data planes this supervisor replaced.
	Restarts int
	// Lost is the number of requests in flight at the last report of the
	// last data plane that crashed: their clients got an error.
	Lost int64
	// LastCrash is what the supervisor saw of the last data plane process
	// that died; nil before any.
	LastCrash *Crash
	// StandbyPID is the warm standby's process; 0 when none runs.
	StandbyPID int
}

// Crash is what a supervisor saw of a data plane process that died and
// the one it started in its place.
type Crash struct {
	// PID and Boot name the process that died; NewPID and NewBoot the
	// one started in its place.
	PID, NewPID   int
	Boot, NewBoot string
	// LastAnswer is when it last answered a health check; DetectedAt when
	// the supervisor saw it gone (at once when its listener stream ended,
	// else at the next poll); ServingAt when the replacement served its
	// control socket, with the dead one's tables on its sockets when they
	// were held.
	LastAnswer, DetectedAt, ServingAt time.Time
	// InFlight are the requests in flight at its last health check: their
	// clients got a reset or an empty reply, the one loss a crash causes
	// when its sockets were held.
	InFlight int64
	// Held is how many of its listening sockets the supervisor kept open
	// across the crash: connections to them waited in the backlog and
	// were served by the replacement. Connections to a listener not held
	// were refused until the replacement bound it again (0 Held: every
	// listener).
	Held int
	// Queued is how many connections were waiting in the held sockets'
	// accept queues when the replacement started: served late, not lost.
	Queued int
	// Standby: the warm standby took over (then DetectedAt is when it saw
	// the dead one's listener stream end, Held the sockets it held);
	// false: the supervisor started the replacement.
	Standby bool
}

// Downtime is how long no process accepted. When a standby took over:
// from the end of the dead one's listener stream (the kernel closes a
// process's sockets as it exits) to the standby serving. Otherwise from
// the dead one's last answer to a health check (an upper bound of its
// death) to the replacement serving.
func (c Crash) Downtime() time.Duration {
	if c.Standby {
		return c.ServingAt.Sub(c.DetectedAt)
	}
	return c.ServingAt.Sub(c.LastAnswer)
}

// SupervisorOptions configure Supervise.
type SupervisorOptions struct {
	// DataDir holds the control socket and the record. Required.
	DataDir string
	// Command starts a data plane (see Start). Required.
	Command Command
	// Poll is how often the data plane's health is checked (its boot and
	// requests in flight). Zero: 100ms.
	Poll time.Duration
	// StaleAfter is how long a live process may leave polls unanswered
	// before it is reported Stale. Zero: 2s.
	StaleAfter time.Duration
	// OnChange receives every change of Health (state or boot); a new
	// boot ID means the control plane must send its state again. Called
	// from the supervisor's goroutine; nil: none.
	OnChange func(h Health)
	// Logf receives diagnostics; nil: silent.
	Logf func(format string, args ...any)
	// NoStandby keeps no warm standby (`gantry proxy --standby`, see
	// standby.go): a crash then waits for a new process to start. False
	// (the default): Run keeps one standby running beside the data plane,
	// which takes over at once when the data plane dies.
	NoStandby bool
}

// Supervisor keeps a data plane process serving a data directory's
// control socket: it adopts the one running (upgrading it when its binary
// differs from this one's), or starts one, and restarts it when it dies.
type Supervisor struct {
	opts   SupervisorOptions
	client *Client
	holder *Holder

	mu       sync.Mutex
	health   Health
	exited   <-chan error
	inFlight int64
	lastOK   time.Time
	standby  *standbyProc
	// starting is closed when the standby being started is known (nil:
	// none being started).
	starting chan struct{}
	// standbyUsed wakes keepStandby when the standby took over.
	standbyUsed chan struct{}
}

// Supervise adopts or starts the data plane of opts.DataDir and returns
// once it serves. Run watches it.
func Supervise(ctx context.Context, opts SupervisorOptions) (*Supervisor, error) {
	if opts.Poll == 0 {
		opts.Poll = 100 * time.Millisecond
	}
	if opts.StaleAfter == 0 {
		opts.StaleAfter = 2 * time.Second
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	sock := filepath.Join(opts.DataDir, SocketFile)
	s := &Supervisor{opts: opts, client: NewClient(sock), holder: NewHolder(sock, opts.Logf), standbyUsed: make(chan struct{}, 1)}
	st, err := s.client.State(ctx)
	self := SelfID()
	switch {
	case err == nil && st.Boot.Binary != "" && self != "" && st.Boot.Binary != self:
		opts.Logf("data plane %s (pid %d) runs another binary: upgrading it to this one", st.Boot.ID, st.Boot.PID)
		b, exited, err := Start(ctx, opts.Command, opts.DataDir, StartOptions{Takeover: true})
		if err != nil {
			opts.Logf("upgrade the data plane: %v; keeping pid %d", err, st.Boot.PID)
			s.health = Health{State: Up, Boot: st.Boot}
			break
		}
		s.health, s.exited = Health{State: Up, Boot: b}, exited
	case err == nil:
		opts.Logf("data plane %s (pid %d) adopted: it serves %d environment(s)", st.Boot.ID, st.Boot.PID, len(st.Environments))
		s.health = Health{State: Up, Boot: st.Boot}
	default:
		b, exited, err := Start(ctx, opts.Command, opts.DataDir, StartOptions{})
		if err != nil {
			return nil, err
		}
		opts.Logf("data plane %s started (pid %d)", b.ID, b.PID)
		s.health, s.exited = Health{State: Up, Boot: b}, exited
	}
	s.health.Since, s.lastOK = time.Now(), time.Now()
	return s, nil
}

// Client programs the supervised data plane.
func (s *Supervisor) Client() *Client { return s.client }

// Health returns the data plane's state as last seen.
func (s *Supervisor) Health() Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.health
	if s.standby != nil {
		h.StandbyPID = s.standby.boot.PID
	}
	return h
}

// Run watches the data plane until ctx ends, restarting it when its
// process is gone, and holds a copy of its listening sockets meanwhile
// (see Holder): a crash refuses no connection while Run runs.
func (s *Supervisor) Run(ctx context.Context) {
	t := time.NewTicker(s.opts.Poll)
	defer t.Stop()
	held := make(chan struct{})
	go func() { defer close(held); s.holder.Run(ctx) }()
	defer func() { <-held }()
	if !s.opts.NoStandby {
		kept := make(chan struct{})
		go func() { defer close(kept); s.keepStandby(ctx) }()
		defer func() { <-kept }()
	}
	for {
		s.mu.Lock()
		exited := s.exited
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-exited:
			s.mu.Lock()
			s.exited = nil
			s.mu.Unlock()
		case <-s.holder.Gone():
		case <-t.C:
		}
		s.check(ctx)
	}
}

// check polls the data plane once and acts on what it finds.
func (s *Supervisor) check(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, max(s.opts.Poll, time.Second))
	c, err := s.client.Check(pctx)
	cancel()
	s.mu.Lock()
	h := s.health
	if err == nil {
		if c.Boot.Succeeded != nil && c.Boot.ID != h.Boot.ID && c.Boot.Succeeded.Boot == h.Boot.ID {
			// The standby took over before this poll saw the crash.
			lastOK, lost := s.lastOK, s.inFlight
			s.inFlight = c.InFlight
			s.mu.Unlock()
			s.succeeded(h, c, lastOK, lost, s.standbyExit(c.Boot.PID))
			return
		}
		s.inFlight, s.lastOK = c.InFlight, time.Now()
		s.mu.Unlock()
		if h.State != Up || c.Boot.ID != h.Boot.ID {
			s.set(Health{State: Up, Boot: c.Boot, Restarts: h.Restarts, Lost: h.Lost, LastCrash: h.LastCrash})
		}
		return
	}
	lastOK, lost := s.lastOK, s.inFlight
	s.mu.Unlock()
	if ctx.Err() != nil {
		return
	}
	if Alive(h.Boot.PID) && !zombie(h.Boot.PID) {
		if time.Since(lastOK) > s.opts.StaleAfter && h.State != Stale {
			s.set(Health{State: Stale, Boot: h.Boot, Restarts: h.Restarts, Lost: h.Lost, LastCrash: h.LastCrash,
				Reason: fmt.Sprintf("data plane pid %d has not answered for %v: %v", h.Boot.PID, time.Since(lastOK).Round(time.Millisecond), err)})
		}
		return
	}
	detected := time.Now()
	down := Health{State: Down, Boot: h.Boot, Restarts: h.Restarts, Lost: h.Lost, LastCrash: h.LastCrash,
		Reason: fmt.Sprintf("data plane pid %d is gone; restarting it", h.Boot.PID)}
	if h.State != Down {
		s.set(down)
	}
	if sb := s.takeStandby(); sb != nil || s.awaitStandbyStart(ctx) {
		if sb == nil {
			sb = s.takeStandby()
		}
		if l, ok := s.awaitSuccession(ctx, sb, h.Boot.ID); ok {
			s.succeeded(h, l, lastOK, lost, sb.exited)
			return
		}
		if sb != nil {
			s.opts.Logf("standby data plane pid %d did not take over (it follows another process than pid %d, or took more than %v); starting a data plane", sb.boot.PID, h.Boot.PID, standbyTakeover)
			_ = syscall.Kill(sb.boot.PID, syscall.SIGKILL)
		}
	}
	crash := &Crash{PID: h.Boot.PID, Boot: h.Boot.ID, LastAnswer: lastOK, DetectedAt: detected, InFlight: lost}
	start := StartOptions{}
	in, herr := s.holder.Held()
	if herr != nil {
		s.opts.Logf("%v: the new data plane binds its listeners again", herr)
	} else if len(in.Keys) > 0 {
		start.Inherit = &in
		crash.Held, crash.Queued = len(in.Keys), in.Queued()
	}
	b, exited, err := Start(ctx, s.opts.Command, s.opts.DataDir, start)
	in.Close()
	if err != nil {
		s.opts.Logf("restart the data plane: %v", err)
		return
	}
	crash.ServingAt, crash.NewPID, crash.NewBoot = time.Now(), b.PID, b.ID
	s.mu.Lock()
	s.exited = exited
	s.lastOK = time.Now()
	s.mu.Unlock()
	s.set(Health{State: Up, Boot: b, Restarts: h.Restarts + 1, Lost: lost, LastCrash: crash, Reason: crash.String()})
}

// String says what happened in a sentence.
func (c Crash) String() string {
	if c.Standby {
		return fmt.Sprintf("data plane pid %d died; the standby pid %d served its tables on its %d listening socket(s) %v after its stream ended; %d request(s) in flight then were lost; no connection was refused, %d waited in the backlog",
			c.PID, c.NewPID, c.Held, c.Downtime().Round(time.Microsecond), c.InFlight, c.Queued)
	}
	s := fmt.Sprintf("data plane pid %d died; a new one served %v after its last answer (%v after the crash was seen), %d request(s) in flight then were lost",
		c.PID, c.Downtime().Round(time.Millisecond), c.ServingAt.Sub(c.DetectedAt).Round(time.Millisecond), c.InFlight)
	if c.Held > 0 {
		return s + fmt.Sprintf("; its %d listening socket(s) were kept open: no connection was refused, %d waited in the backlog", c.Held, c.Queued)
	}
	return s + "; its listening sockets were not held: connections were refused meanwhile"
}

func (s *Supervisor) set(h Health) {
	h.Since = time.Now()
	s.mu.Lock()
	s.health = h
	s.mu.Unlock()
	s.opts.Logf("data plane %s (pid %d): %s %s", h.Boot.ID, h.Boot.PID, h.State, h.Reason)
	if s.opts.OnChange != nil {
		s.opts.OnChange(h)
	}
}

// Stop ends the data plane process (SIGTERM: it lets requests in flight
// finish) and returns when it is gone or ctx ends.
func (s *Supervisor) Stop(ctx context.Context) error {
	if sb := s.takeStandby(); sb != nil {
		stopPID(ctx, sb.boot.PID) // before the data plane: it must not take over
	}
	pid := s.Health().Boot.PID
	if !Alive(pid) {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop the data plane (pid %d): %w", pid, err)
	}
	for Alive(pid) && !zombie(pid) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("stop the data plane (pid %d): %w", pid, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}
