package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/rollout"
)

// Recover adopts the instances an earlier gantry left running on the same
// DataDir and cleans up after those that are gone. Call it once, after New
// and before the first Scale.
//
// A recorded process that is still alive, with the recorded start time and
// GANTRY_INSTANCE=<id> in its environment, is adopted with the revision
// lookup returns and supervised again (probes, stats, restarts, graceful
// stop) with its recorded restarts, last exit and readiness; an
// InstanceAdopted event is recorded. If lookup fails (the revision is
// unknown) the process is stopped gracefully instead. An instance that was
// backing off is adopted backing off and started when its back-off ends. A
// record whose process is gone, or whose pid now belongs to another
// process, counts as an exit (InstanceLost): the instance restarts at once
// with one more restart, or, if its revision is unknown, its record is
// removed. Last, instance processes that an
// earlier gantry started but did not live to record are found in /proc and
// stopped (UnrecordedInstanceStopped).
func (b *Backend) Recover(ctx context.Context, lookup backend.RevisionLookup) error {
	recs, listErr := b.records.list()
	var errs []error
	for _, rec := range recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := b.recoverOne(rec, lookup); err != nil {
			errs = append(errs, err)
		}
	}
	b.stopUnrecorded()
	return errors.Join(append([]error{listErr}, errs...)...)
}

func (b *Backend) recoverOne(rec record, lookup backend.RevisionLookup) error {
	b.mu.Lock()
	_, known := b.instances[rec.ID]
	closed := b.closed
	b.mu.Unlock()
	if known {
		return nil
	}
	if closed {
		return fmt.Errorf("recover instance %s: the local backend is shut down", rec.ID)
	}
	info := rollout.Instance{
		ID: rec.ID, App: rec.App, Env: rec.Env, Revision: rec.Revision, Version: rec.Version, Group: rec.Group,
		PID: rec.PID, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(rec.Port)),
		StartedAt: rec.StartedAt, Restarts: rec.Restarts, State: rollout.Starting,
	}
	if rec.LastExit != nil {
		info.LastExit, info.LastExitAt = rec.LastExit.Message, rec.LastExit.At
	}
	alive := !rec.backingOff() && recordedProcessAlive(rec)
	rev, lookupErr := lookup(rec.App, rec.Env, rec.Revision)
	if !alive && lookupErr != nil {
		// Nothing runs, and nothing is to be restarted.
		if err := b.records.remove(rec.ID); err != nil {
			return err
		}
		if rec.backingOff() {
			b.event(info, rollout.Warning, ReasonStopped, "instance %s was backing off; not restarted: revision %d: %v", rec.ID, rec.Revision, lookupErr)
		} else {
			b.event(info, rollout.Warning, ReasonLost, "instance %s (pid %d) of revision %d ended while gantry was not running", rec.ID, rec.PID, rec.Revision)
		}
		return nil
	}
	if lookupErr != nil {
		// Stop it with the defaults of an empty spec (grace period 30s).
		rev = rollout.Revision{App: rec.App, Env: rec.Env, Number: rec.Revision, Version: rec.Version}
	}
	if err := os.MkdirAll(filepath.Dir(b.logPath(rec.App, rec.Env, rec.ID)), 0o700); err != nil {
		return fmt.Errorf("recover instance %s: %w", rec.ID, err)
	}
	in := &instance{
		b: b, rev: rev, created: rec.StartedAt, rec: rec,
		stop: make(chan struct{}), force: make(chan struct{}), done: make(chan struct{}),
	}
	var (
		p       *process
		pending *record // the record of an instance between two runs
		adopted string  // the event message
		reason  = ReasonAdopted
		typ     = rollout.Normal
	)
	switch {
	case alive:
		// It keeps its last known readiness until a probe says otherwise.
		if rec.Ready {
			info.State, info.Ready, info.ReadySince = rollout.Running, true, rec.ReadySince
		}
		p = adoptProcess(rec.PID, rec.StartTime, b.opts.StatsInterval)
		adopted = fmt.Sprintf("instance %s (pid %d) of revision %d adopted, running since %s (%d restart(s))", rec.ID, rec.PID, rec.Revision, rec.StartedAt.Format(time.RFC3339), rec.Restarts)
	case rec.backingOff():
		info.State, info.PID, info.Addr = rollout.BackingOff, 0, ""
		pending = &rec
		adopted = fmt.Sprintf("instance %s of revision %d adopted backing off after %d restart(s) (last exit: %s); next start in %s",
			rec.ID, rec.Revision, rec.Restarts, info.LastExit, max(time.Until(rec.RestartAt), 0).Round(time.Millisecond))
	default:
		// It ended while no gantry watched: an exit like any other, with
		// its restart counted, so a crash loop stays one.
		now := time.Now()
		exit := exitRecord{Message: "ended while no gantry server was running (exit status unknown)", At: now}
		info.State, info.PID, info.Addr = rollout.BackingOff, 0, ""
		info.Restarts++
		info.LastExit, info.LastExitAt = exit.Message, now
		in.rec.PID, in.rec.StartTime, in.rec.Port = 0, 0, 0
		in.rec.Ready, in.rec.ReadySince = false, time.Time{}
		in.rec.Restarts, in.rec.LastExit, in.rec.RestartAt = info.Restarts, &exit, now
		pending = &in.rec
		reason, typ = ReasonLost, rollout.Warning
		adopted = fmt.Sprintf("instance %s (pid %d) of revision %d ended while gantry was not running; restarting it (restart %d)", rec.ID, rec.PID, rec.Revision, info.Restarts)
	}
	in.info = info
	if pending != nil {
		if err := in.saveRecord(); err != nil {
			return fmt.Errorf("recover instance %s: %w", rec.ID, err)
		}
		cp := *pending // the supervisor's own copy
		pending = &cp
	}
	in.proc = p
	b.mu.Lock()
	b.instances[rec.ID] = in
	if lookupErr != nil {
		in.requestStop()
	}
	b.wg.Add(1)
	b.mu.Unlock()
	b.event(info, typ, reason, "%s", adopted)
	if lookupErr != nil {
		b.event(info, rollout.Warning, ReasonStopped, "stopping adopted instance %s: revision %d: %v", rec.ID, rec.Revision, lookupErr)
	}
	go in.supervise(p, pending)
	b.changed(rec.App, rec.Env)
	return nil
}

// recordedProcessAlive reports whether rec's process still runs: same pid,
// same start time, not a zombie, and (when readable) GANTRY_INSTANCE=<id>
// in its environment.
func recordedProcessAlive(rec record) bool {
	st, err := readStat(rec.PID)
	if err != nil || st.state == 'Z' || st.startTime != rec.StartTime {
		return false
	}
	has, ok := hasEnv(rec.PID, "GANTRY_INSTANCE="+rec.ID)
	return has || !ok
}
