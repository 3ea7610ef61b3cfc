package local

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gantry-dev/gantry/rollout"
)

// instance is one supervised instance. Its mutable fields are guarded by
// Backend.mu; its supervisor goroutine is the only writer of proc and of
// info's state.
type instance struct {
	b       *Backend
	rev     rollout.Revision
	created time.Time

	info rollout.Instance
	// proc is the current run; nil while backing off or before the start.
	proc *process
	// stopping is set once a stop was requested; the instance no longer
	// counts toward its revision's replicas.
	stopping bool
	// killReason, set by Kill, replaces the exit status as LastExit.
	killReason string
	// lastTicks and lastSample are the previous CPU sample of proc.
	lastTicks  uint64
	lastSample time.Time
	// rec is what the instance's record holds (or is about to); recMu
	// orders the writes of the record, and dropped is set under it once
	// the record is removed for good.
	rec     record
	recMu   sync.Mutex
	dropped bool

	stop, force         chan struct{} // graceful stop; skip the grace period
	stopOnce, forceOnce sync.Once
	done                chan struct{} // closed when the supervisor returns
}

func (b *Backend) newInstance(rev rollout.Revision, group string) (*instance, error) {
	id := instanceID(rev.App, rev.Env, rev.Number, group)
	if err := os.MkdirAll(filepath.Dir(b.logPath(rev.App, rev.Env, id)), 0o700); err != nil {
		return nil, fmt.Errorf("scale %s/%s revision %d: %w", rev.App, rev.Env, rev.Number, err)
	}
	return &instance{
		b: b, rev: rev, created: time.Now(),
		info: rollout.Instance{
			ID: id, App: rev.App, Env: rev.Env, Revision: rev.Number, Version: rev.Version, Group: group,
			State: rollout.Starting,
		},
		rec:  record{ID: id, App: rev.App, Env: rev.Env, Revision: rev.Number, Version: rev.Version, Group: group},
		stop: make(chan struct{}), force: make(chan struct{}), done: make(chan struct{}),
	}, nil
}

// requestStop asks the supervisor to stop the instance gracefully. The
// caller holds b.mu or the instance is not yet shared.
func (in *instance) requestStop() {
	in.stopping = true
	in.stopOnce.Do(func() { close(in.stop) })
}

// forceStop asks the supervisor to skip what is left of the grace period.
func (in *instance) forceStop() { in.forceOnce.Do(func() { close(in.force) }) }

// update applies f to the instance's info under the lock and calls
// OnChange if the state or readiness changed.
func (in *instance) update(f func(i *rollout.Instance)) rollout.Instance {
	in.b.mu.Lock()
	before := in.info
	f(&in.info)
	after := in.info
	in.b.mu.Unlock()
	if before.State != after.State || before.Ready != after.Ready || before.Addr != after.Addr {
		in.b.changed(after.App, after.Env)
	}
	return after
}

// outcome is why watching a run ended.
type outcome int

const (
	exited    outcome = iota + 1 // the process exited
	unhealthy                    // liveness failed
	stopped                      // a stop was requested
	detached                     // the backend detached
)

// supervise runs the instance until it is stopped or the backend detaches:
// start, watch, and restart with back-off. adopted, if not nil, is a
// process to supervise first instead of starting one. backingOff, if
// not nil, is the record of an instance adopted between two runs: its
// next run starts when the record says, and its back-off goes on from the
// record's.
func (in *instance) supervise(adopted *process, backingOff *record) {
	defer in.b.wg.Done()
	defer close(in.done)
	b := in.b
	backoff := b.opts.RestartBackoff
	proc := adopted
	if backingOff != nil {
		if d := time.Duration(backingOff.BackoffMillis) * time.Millisecond; d > 0 {
			backoff = min(max(d, b.opts.RestartBackoff), b.opts.MaxRestartBackoff)
		}
		if !in.backOff(time.Until(backingOff.RestartAt)) {
			return
		}
		backoff = min(2*backoff, b.opts.MaxRestartBackoff)
	}
	for {
		var lastExit string
		exit := exitRecord{}
		if proc == nil {
			var err error
			proc, err = in.start()
			if err != nil {
				lastExit = err.Error()
				b.event(in.snapshot(), rollout.Warning, ReasonStartFailed, "instance %s: %v", in.info.ID, err)
			}
		}
		startedAt := time.Now()
		var eventReason rollout.Reason
		if proc != nil {
			switch out, why := in.watch(proc); out {
			case stopped:
				in.terminate(proc)
				return
			case detached:
				return
			case unhealthy:
				lastExit = "liveness probe failed: " + why
				in.update(func(i *rollout.Instance) { i.Ready = false })
				b.event(in.snapshot(), rollout.Warning, ReasonUnhealthy, "instance %s (pid %d) %s; restarting it", in.info.ID, proc.pid, lastExit)
				proc.stop(in.rev.Spec.GracePeriod(), in.force)
			case exited:
				lastExit, eventReason = proc.exit, ReasonExited
				exit.Code, exit.Signal = proc.code, proc.sig
				proc.signal(syscall.SIGKILL) // what is left of the group
			}
			b.mu.Lock()
			if in.killReason != "" {
				lastExit, eventReason, in.killReason = in.killReason, ReasonKilled, ""
				exit.Code, exit.Signal = nil, "SIGKILL"
			}
			startedAt = in.info.StartedAt
			b.mu.Unlock()
		}
		if time.Since(startedAt) >= backoffReset {
			backoff = b.opts.RestartBackoff
		}
		now := time.Now()
		exit.Message, exit.At = lastExit, now
		info := in.update(func(i *rollout.Instance) {
			i.State, i.Ready, i.PID, i.LastExit, i.LastExitAt = rollout.BackingOff, false, 0, lastExit, now
			i.Restarts++
			i.CPUMillis = 0
			in.proc = nil
			// The record keeps the instance and its history between runs,
			// so a gantry started meanwhile adopts it backing off.
			in.rec.PID, in.rec.StartTime, in.rec.Port = 0, 0, 0
			in.rec.Ready, in.rec.ReadySince = false, time.Time{}
			in.rec.Restarts, in.rec.LastExit = i.Restarts, &exit
			in.rec.RestartAt, in.rec.BackoffMillis = now.Add(backoff), backoff.Milliseconds()
		})
		in.saveRecord()
		if eventReason != "" {
			b.event(info, rollout.Warning, eventReason, "instance %s: %s; restarting in %s", info.ID, lastExit, backoff)
		}
		proc = nil
		if !in.backOff(backoff) {
			return
		}
		backoff = min(2*backoff, b.opts.MaxRestartBackoff)
	}
}

// backOff waits d before the next run. It reports false if the instance
// was stopped meanwhile (it is then terminated) or the backend detached.
func (in *instance) backOff(d time.Duration) bool {
	t := time.NewTimer(max(d, 0))
	defer t.Stop()
	select {
	case <-in.stop:
		in.terminate(nil)
		return false
	case <-in.b.detach:
		return false
	case <-t.C:
		return true
	}
}

// saveRecord writes the instance's record as it is now, unless the record
// was dropped. Writes are ordered: the last one holds the latest state.
func (in *instance) saveRecord() error {
	in.recMu.Lock()
	defer in.recMu.Unlock()
	if in.dropped {
		return nil
	}
	in.b.mu.Lock()
	rec := in.rec
	in.b.mu.Unlock()
	return in.b.records.put(rec)
}

// dropRecord removes the instance's record (id) for good.
func (in *instance) dropRecord(id string) {
	in.recMu.Lock()
	defer in.recMu.Unlock()
	in.dropped = true
	in.b.records.remove(id)
}

// start starts one run of the instance on a fresh port and records it.
func (in *instance) start() (*process, error) {
	b := in.b
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	l, err := b.launchFor(in.rev, in.info.ID, port)
	if err != nil {
		return nil, err
	}
	logPath := b.logPath(in.info.App, in.info.Env, in.info.ID)
	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open instance log: %w", err)
	}
	defer f.Close()
	fmt.Fprintf(f, "--- gantry %s: starting %s (revision %d, version %s) on 127.0.0.1:%d: %s %q\n",
		time.Now().Format(time.RFC3339), in.info.ID, in.rev.Number, in.rev.Version, port, l.path, l.args)
	l.logFile = f
	p, err := startProcess(l)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", l.path, err)
	}
	now := time.Now()
	b.mu.Lock()
	rec := in.rec
	rec.PID, rec.StartTime, rec.Port, rec.StartedAt = p.pid, p.startTime, port, now
	rec.Ready, rec.ReadySince, rec.RestartAt = false, time.Time{}, time.Time{}
	in.rec = rec
	b.mu.Unlock()
	if err := in.saveRecord(); err != nil {
		p.signal(syscall.SIGKILL)
		<-p.done
		return nil, err
	}
	info := in.update(func(i *rollout.Instance) {
		i.State, i.Ready, i.ReadySince = rollout.Starting, false, time.Time{}
		i.PID, i.Addr, i.StartedAt, i.Health = p.pid, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), now, ""
		in.proc, in.lastSample = p, time.Time{}
	})
	if info.Restarts == 0 {
		b.event(info, rollout.Normal, ReasonStarted, "instance %s of revision %d started: pid %d on %s", info.ID, info.Revision, info.PID, info.Addr)
	} else {
		b.event(info, rollout.Normal, ReasonRestarted, "instance %s of revision %d restarted (restart %d): pid %d on %s", info.ID, info.Revision, info.Restarts, info.PID, info.Addr)
	}
	return p, nil
}

// snapshot returns a copy of the instance's info.
func (in *instance) snapshot() rollout.Instance {
	in.b.mu.Lock()
	defer in.b.mu.Unlock()
	return in.info
}

// watch runs the probes of one run until the process exits, liveness
// fails, a stop is requested or the backend detaches. why explains a
// liveness failure.
func (in *instance) watch(p *process) (out outcome, why string) {
	ctx, cancel := context.WithCancel(context.Background())
	var probes sync.WaitGroup
	defer probes.Wait()
	defer cancel()
	port := in.port()
	s := in.rev.Spec

	if s.ReadinessProbe == nil {
		in.setReady(p, true)
	} else {
		pr := newProber(*s.ReadinessProbe, s.Workload, port)
		// An adopted run starts from its recorded readiness.
		th := threshold{successes: s.ReadinessProbe.Successes(), failures: s.ReadinessProbe.Failures(), passing: in.snapshot().Ready}
		probes.Go(func() {
			pr.run(ctx, func(r probeResult) {
				if th.observe(r.passed) {
					in.setReady(p, th.passing)
				}
			})
		})
	}
	failed := make(chan string, 1)
	if s.LivenessProbe != nil {
		pr := newProber(*s.LivenessProbe, s.Workload, port)
		th := threshold{successes: 1, failures: s.LivenessProbe.Failures(), passing: true}
		grace := startupGrace{until: time.Now().Add(StartupGrace)}
		probes.Go(func() {
			pr.run(ctx, func(r probeResult) {
				in.update(func(i *rollout.Instance) {
					if in.proc == p {
						i.Health = r.body
					}
				})
				if grace.excuses(r, time.Now()) {
					return
				}
				if th.observe(r.passed) && !th.passing {
					failed <- r.detail
					cancel()
				}
			})
		})
	}
	select {
	case <-p.done:
		return exited, ""
	case why := <-failed:
		return unhealthy, why
	case <-in.stop:
		return stopped, ""
	case <-in.b.detach:
		return detached, ""
	}
}

func (in *instance) port() int {
	in.b.mu.Lock()
	defer in.b.mu.Unlock()
	_, port, _ := net.SplitHostPort(in.info.Addr)
	n, _ := strconv.Atoi(port)
	return n
}

// setReady records a readiness change of run p, unless p is no longer the
// current run or the instance is going away.
// The record keeps the readiness for a gantry that adopts the run.
func (in *instance) setReady(p *process, ready bool) {
	changed := false
	in.update(func(i *rollout.Instance) {
		if in.proc != p || in.stopping || i.State == rollout.Terminating || i.State == rollout.BackingOff || i.Ready == ready {
			return
		}
		i.Ready, changed = ready, true
		if ready {
			i.State, i.ReadySince = rollout.Running, time.Now()
		}
		in.rec.Ready, in.rec.ReadySince = i.Ready, i.ReadySince
	})
	if changed {
		in.saveRecord()
	}
}

// terminate stops the instance for good: out of traffic (OnChange), drained,
// SIGTERM, SIGKILL after the grace period; then its record is removed and
// it leaves the backend. p is nil when no process runs.
func (in *instance) terminate(p *process) {
	b := in.b
	info := in.update(func(i *rollout.Instance) { i.State, i.Ready = rollout.Terminating, false })
	grace := in.rev.Spec.GracePeriod()
	if p != nil {
		if b.opts.Drain != nil && info.Addr != "" {
			ctx, cancel := context.WithTimeout(context.Background(), grace)
			go func() {
				select {
				case <-in.force:
					cancel()
				case <-ctx.Done():
				}
			}()
			b.opts.Drain(ctx, info.Addr)
			cancel()
		}
		killed := p.stop(grace, in.force)
		// Gone from status as soon as its process is: the events follow.
		in.leave(info)
		if killed {
			b.event(info, rollout.Warning, ReasonKilled, "instance %s (pid %d) did not stop within %s of SIGTERM; sent SIGKILL", info.ID, p.pid, grace)
		}
		b.event(info, rollout.Normal, ReasonStopped, "instance %s of revision %d stopped (%s)", info.ID, info.Revision, p.exit)
		return
	}
	in.leave(info)
}

// leave removes the instance's record and the instance from the backend.
func (in *instance) leave(info rollout.Instance) {
	in.dropRecord(info.ID)
	in.b.mu.Lock()
	delete(in.b.instances, info.ID)
	in.b.mu.Unlock()
	in.b.changed(info.App, info.Env)
}
