package local

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/rollout"
)

// Options configure a Backend.
type Options struct {
	// DataDir holds instance logs, under logs/<app>/<env>/<instance>.log,
	// and instance records, under instances/. Required.
	DataDir string
	// BaseDir is the directory relative workload paths (command, workingDir)
	// are resolved against: the spec file's directory. Empty: the current
	// working directory.
	BaseDir string
	// OnChange is called whenever an instance's state or readiness changes
	// or it is removed, synchronously from the instance's supervisor and
	// before the instance is drained or terminated, so the caller can update
	// traffic first. Nil: not called.
	OnChange func(app, env string)
	// Drain waits until no request to addr (host:port) is in flight; the
	// context ends at the revision's termination grace period. Nil: no wait.
	Drain func(ctx context.Context, addr string) error
	// Event receives what happens to instances: starts, exits, restarts,
	// liveness failures, kills, adoptions (Type Warning for bad news). It is
	// called synchronously from the supervisors. Nil: events are dropped.
	Event func(e rollout.Event)
	// RestartBackoff is the first delay before restarting an instance after
	// an exit or liveness failure; it doubles per restart up to
	// MaxRestartBackoff and resets after 60s of running. Zero: 1s and 30s.
	RestartBackoff, MaxRestartBackoff time.Duration
	// StatsInterval is how often /proc is sampled for CPU and memory use,
	// and how often adopted processes are checked. Zero: 1s.
	StatsInterval time.Duration
}

// backoffReset is how long an instance must run for its restart back-off
// to start again from Options.RestartBackoff.
const backoffReset = 60 * time.Second

// Event reasons the backend records (see rollout.Reasons for their meaning).
const (
	ReasonStarted     = rollout.ReasonInstanceStarted
	ReasonRestarted   = rollout.ReasonInstanceRestarted
	ReasonExited      = rollout.ReasonInstanceExited
	ReasonUnhealthy   = rollout.ReasonInstanceUnhealthy
	ReasonKilled      = rollout.ReasonInstanceKilled
	ReasonStartFailed = rollout.ReasonInstanceStartFailed
	ReasonStopped     = rollout.ReasonInstanceStopped
	ReasonAdopted     = rollout.ReasonInstanceAdopted
	ReasonLost        = rollout.ReasonInstanceLost
	// ReasonUnrecordedStopped: a process an earlier gantry started but did
	// not record before it died was found in /proc and stopped.
	ReasonUnrecordedStopped = rollout.ReasonUnrecordedInstanceStopped
)

// Backend runs instances as local processes. It is safe for concurrent use.
type Backend struct {
	opts    Options
	records records
	logIdx  logIndex // when each log reached its size, for LogOptions.Since

	mu        sync.Mutex
	instances map[string]*instance // by ID
	closed    bool
	released  bool // by Release: the processes are the next Backend's

	detach     chan struct{} // closed by Detach
	detachOnce sync.Once
	wg         sync.WaitGroup // supervisors and the sampler
}

var (
	_ backend.Backend      = (*Backend)(nil)
	_ rollout.GroupBackend = (*Backend)(nil)
)

// New returns a Backend that keeps its files in opts.DataDir, creating the
// directories it needs. Call Recover next to adopt instances an earlier
// gantry left running.
func New(opts Options) (*Backend, error) {
	if opts.DataDir == "" {
		return nil, errors.New("local backend: Options.DataDir is required")
	}
	if opts.BaseDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("local backend: base directory: %w", err)
		}
		opts.BaseDir = wd
	}
	if opts.RestartBackoff <= 0 {
		opts.RestartBackoff = time.Second
	}
	if opts.MaxRestartBackoff <= 0 {
		opts.MaxRestartBackoff = 30 * time.Second
	}
	opts.MaxRestartBackoff = max(opts.MaxRestartBackoff, opts.RestartBackoff)
	if opts.StatsInterval <= 0 {
		opts.StatsInterval = time.Second
	}
	b := &Backend{
		opts:      opts,
		records:   records{dir: filepath.Join(opts.DataDir, "instances")},
		instances: make(map[string]*instance),
		detach:    make(chan struct{}),
	}
	for _, dir := range []string{b.records.dir, filepath.Join(opts.DataDir, "logs")} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("local backend: %w", err)
		}
	}
	b.wg.Add(1)
	go b.sample()
	return b, nil
}

// Scale starts or stops primary instances of rev until replicas of them
// run (not counting those terminating). It returns once the change is set
// in motion; instances start and stop in the background. Scale-down stops
// instances that are not ready first, then the newest.
func (b *Backend) Scale(ctx context.Context, rev rollout.Revision, replicas int) error {
	return b.ScaleGroup(ctx, rev, rollout.GroupPrimary, replicas)
}

// RunsGroups implements rollout.GroupBackend: every environment.
func (b *Backend) RunsGroups(app, env string) bool { return true }

// ScaleGroup implements rollout.GroupBackend: Scale for rev's instances
// in group, which are started, counted and stopped apart from its primary
// ones and named <app>-<env>-<revision>-<group>-<random>.
func (b *Backend) ScaleGroup(ctx context.Context, rev rollout.Revision, group string, replicas int) error {
	if replicas < 0 {
		return fmt.Errorf("scale %s/%s revision %d%s: replicas %d is negative", rev.App, rev.Env, rev.Number, groupSuffix(group), replicas)
	}
	if rev.Spec.Workload.Command == "" {
		return fmt.Errorf("scale %s/%s revision %d: spec.workload.command is empty; the local backend runs a command", rev.App, rev.Env, rev.Number)
	}
	l, err := b.launchFor(rev, "check", 1)
	if err == nil {
		if _, lerr := exec.LookPath(l.path); lerr != nil {
			err = fmt.Errorf("spec.workload.command %q cannot be run (relative paths are resolved against %s): %w", l.path, b.opts.BaseDir, lerr)
		}
	}
	if err != nil {
		return fmt.Errorf("scale %s/%s revision %d: %w: %w", rev.App, rev.Env, rev.Number, rollout.ErrCannotStart, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return fmt.Errorf("scale %s/%s revision %d: the local backend is shut down", rev.App, rev.Env, rev.Number)
	}
	var live []*instance
	for _, in := range b.instances {
		if in.info.App == rev.App && in.info.Env == rev.Env && in.info.Revision == rev.Number && in.info.Group == group && !in.stopping {
			live = append(live, in)
		}
	}
	for n := len(live); n < replicas; n++ {
		in, err := b.newInstance(rev, group)
		if err != nil {
			return err
		}
		b.instances[in.info.ID] = in
		b.wg.Add(1)
		go in.supervise(nil, nil)
	}
	if len(live) > replicas {
		// Not ready first, then newest first.
		slices.SortFunc(live, func(x, y *instance) int {
			if x.info.Ready != y.info.Ready {
				if !x.info.Ready {
					return -1
				}
				return 1
			}
			return y.created.Compare(x.created)
		})
		for _, in := range live[:len(live)-replicas] {
			in.requestStop()
		}
	}
	return nil
}

// Instances returns a snapshot of app's instances in env, of every
// revision, including those still terminating (but not once their process
// has exited), sorted by revision and ID.
func (b *Backend) Instances(app, env string) []rollout.Instance {
	b.mu.Lock()
	var out []rollout.Instance
	for _, in := range b.instances {
		if in.info.App != app || in.info.Env != env {
			continue
		}
		if in.info.State == rollout.Terminating && (in.proc == nil || in.proc.exited() || !in.proc.alive()) {
			continue // gone; the supervisor is about to remove it
		}
		out = append(out, in.info)
	}
	b.mu.Unlock()
	slices.SortFunc(out, func(x, y rollout.Instance) int {
		if x.Revision != y.Revision {
			return x.Revision - y.Revision
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out
}

func (b *Backend) logPath(app, env, id string) string {
	return filepath.Join(b.opts.DataDir, "logs", app, env, id+".log")
}

// Kill ends an instance's process group with SIGKILL at once, without
// draining; the supervisor restarts it with back-off and reason becomes
// its LastExit (such as "OOMKilled: 600MiB over the 512MiB memory limit").
// The engine uses it to enforce limits.
func (b *Backend) Kill(app, env, instanceID, reason string) error {
	b.mu.Lock()
	in, ok := b.instances[instanceID]
	if !ok || in.info.App != app || in.info.Env != env {
		b.mu.Unlock()
		return fmt.Errorf("kill instance %q of %s/%s: %w", instanceID, app, env, rollout.ErrNotFound)
	}
	p := in.proc
	if p != nil {
		in.killReason = reason
	}
	b.mu.Unlock()
	if p == nil {
		return nil // not running: backing off or stopped already
	}
	return p.signal(syscall.SIGKILL)
}

// Shutdown stops every instance gracefully and waits until all are gone.
// When ctx ends first, the remaining process groups are killed and ctx's
// error is returned. Scale fails afterwards. After Release it does nothing.
func (b *Backend) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	if b.released {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	all := make([]*instance, 0, len(b.instances))
	for _, in := range b.instances {
		all = append(all, in)
		in.requestStop()
	}
	b.mu.Unlock()
	var err error
	for _, in := range all {
		select {
		case <-in.done:
		case <-ctx.Done():
			err = ctx.Err()
			in.forceStop()
			<-in.done
		}
	}
	b.stopSampler()
	b.wg.Wait()
	return err
}

// Release stops supervising and leaves every process running with its
// record in place, for a new Backend on the same DataDir to adopt (a
// server restart, or another leader on this machine). The Backend is
// unusable afterwards.
func (b *Backend) Release() {
	b.mu.Lock()
	b.closed, b.released = true, true
	b.mu.Unlock()
	b.stopSampler()
	b.wg.Wait()
}

func (b *Backend) stopSampler() { b.detachOnce.Do(func() { close(b.detach) }) }

// event sends an event about an instance, if anyone listens.
func (b *Backend) event(info rollout.Instance, typ rollout.EventType, reason rollout.Reason, format string, args ...any) {
	if b.opts.Event == nil {
		return
	}
	b.opts.Event(rollout.Event{
		Time: time.Now(), App: info.App, Env: info.Env, Type: typ, Reason: reason,
		Message: fmt.Sprintf(format, args...), Actor: "gantry",
		Details: &rollout.Details{Instance: &rollout.InstanceFacts{
			ID: info.ID, Revision: info.Revision, Version: info.Version, Restarts: info.Restarts, LastExit: info.LastExit,
		}},
	})
}

func (b *Backend) changed(app, env string) {
	if b.opts.OnChange != nil {
		b.opts.OnChange(app, env)
	}
}

// groupSuffix names a group after a revision in messages.
func groupSuffix(group string) string {
	if group == "" {
		return ""
	}
	return " " + group
}

// instanceID names a new instance: <app>-<env>-<revision>-<5 random
// characters>, with -<group> before the random part for a group.
func instanceID(app, env string, rev int, group string) string {
	const letters = "bcdfghjklmnpqrstvwxz2456789"
	var r [5]byte
	rand.Read(r[:])
	for i := range r {
		r[i] = letters[int(r[i])%len(letters)]
	}
	if group != "" {
		return fmt.Sprintf("%s-%s-%d-%s-%s", app, env, rev, group, r[:])
	}
	return fmt.Sprintf("%s-%s-%d-%s", app, env, rev, r[:])
}
