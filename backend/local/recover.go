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
// stop); an InstanceAdopted event is recorded. If lookup fails (the
// revision is unknown) the process is stopped gracefully instead. A record
// whose process is gone, or whose pid now belongs to another process, is
// removed with an InstanceLost event. Last, instance processes that an
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
		ID: rec.ID, App: rec.App, Env: rec.Env, Revision: rec.Revision, Version: rec.Version,
		PID: rec.PID, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(rec.Port)),
		StartedAt: rec.StartedAt, Restarts: rec.Restarts, State: rollout.Starting,
	}
	if !recordedProcessAlive(rec) {
		if err := b.records.remove(rec.ID); err != nil {
			return err
		}
		b.event(info, rollout.Warning, ReasonLost, "instance %s (pid %d) of revision %d ended while gantry was not running", rec.ID, rec.PID, rec.Revision)
		return nil
	}
	rev, lookupErr := lookup(rec.App, rec.Env, rec.Revision)
	if lookupErr != nil {
		// Stop it with the defaults of an empty spec (grace period 30s).
		rev = rollout.Revision{App: rec.App, Env: rec.Env, Number: rec.Revision, Version: rec.Version}
	}
	if err := os.MkdirAll(filepath.Dir(b.logPath(rec.App, rec.Env, rec.ID)), 0o700); err != nil {
		return fmt.Errorf("recover instance %s: %w", rec.ID, err)
	}
	in := &instance{
		b: b, rev: rev, created: rec.StartedAt, info: info,
		stop: make(chan struct{}), force: make(chan struct{}), done: make(chan struct{}),
	}
	p := adoptProcess(rec.PID, rec.StartTime, b.opts.StatsInterval)
	in.proc = p
	b.mu.Lock()
	b.instances[rec.ID] = in
	if lookupErr != nil {
		in.requestStop()
	}
	b.wg.Add(1)
	b.mu.Unlock()
	b.event(info, rollout.Normal, ReasonAdopted, "instance %s (pid %d) of revision %d adopted, running since %s", rec.ID, rec.PID, rec.Revision, rec.StartedAt.Format(time.RFC3339))
	if lookupErr != nil {
		b.event(info, rollout.Warning, ReasonStopped, "stopping adopted instance %s: revision %d: %v", rec.ID, rec.Revision, lookupErr)
	}
	go in.supervise(p)
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
