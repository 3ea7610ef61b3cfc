package fake

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/sample"
)

// probePeriod is how often a starting instance's /ready is asked.
const probePeriod = 20 * time.Millisecond

// Backend runs instances in its Cluster. It is safe for concurrent use.
type Backend struct {
	c    *Cluster
	opts backend.Options

	closed   bool // guarded by c.mu
	released chan struct{}
	once     sync.Once
	wg       sync.WaitGroup // probes and stops
}

var (
	_ backend.Backend      = (*Backend)(nil)
	_ rollout.GroupBackend = (*Backend)(nil)
)

// New returns a Backend over c. It adopts nothing until Recover.
func New(c *Cluster, opts backend.Options) *Backend {
	return &Backend{c: c, opts: opts, released: make(chan struct{})}
}

// Scale implements rollout.Backend: it starts primary instances of rev
// until replicas run, or stops the newest beyond that.
func (b *Backend) Scale(ctx context.Context, rev rollout.Revision, replicas int) error {
	return b.ScaleGroup(ctx, rev, rollout.GroupPrimary, replicas)
}

// RunsGroups implements rollout.GroupBackend: every environment.
func (b *Backend) RunsGroups(app, env string) bool { return true }

// ScaleGroup implements rollout.GroupBackend: Scale for rev's instances
// in group.
func (b *Backend) ScaleGroup(ctx context.Context, rev rollout.Revision, group string, replicas int) error {
	if replicas < 0 {
		return fmt.Errorf("scale %s/%s revision %d: replicas %d is negative", rev.App, rev.Env, rev.Number, replicas)
	}
	version, knobs, err := sample.SplitVersion(rev.Version)
	if err != nil {
		return fmt.Errorf("scale %s/%s revision %d: version %q: %w", rev.App, rev.Env, rev.Number, rev.Version, err)
	}
	b.c.mu.Lock()
	defer b.c.mu.Unlock()
	if b.closed {
		return fmt.Errorf("scale %s/%s revision %d: the fake backend is shut down", rev.App, rev.Env, rev.Number)
	}
	var live []*instance
	for _, in := range b.c.instances {
		if in.owner == b && in.info.App == rev.App && in.info.Env == rev.Env && in.info.Revision == rev.Number && in.info.Group == group && !in.stopping {
			live = append(live, in)
		}
	}
	for n := len(live); n < replicas; n++ {
		if err := b.start(rev, group, version, knobs); err != nil {
			return err
		}
	}
	if len(live) > replicas {
		slices.SortFunc(live, func(x, y *instance) int { return y.info.StartedAt.Compare(x.info.StartedAt) })
		for _, in := range live[:len(live)-replicas] {
			b.stopLocked(in)
		}
	}
	return nil
}

// start runs one instance of rev; c.mu is held.
func (b *Backend) start(rev rollout.Revision, group, version string, knobs sample.Knobs) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("scale %s/%s revision %d: %w", rev.App, rev.Env, rev.Number, err)
	}
	id := b.c.newID(rev, group)
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{
		rev: rev, owner: b, stop: cancel, done: make(chan struct{}), log: newLogBuffer(rev.App, rev.Env),
		info: rollout.Instance{
			ID: id, App: rev.App, Env: rev.Env, Revision: rev.Number, Version: rev.Version, Group: group,
			State: rollout.Starting, Addr: ln.Addr().String(), StartedAt: time.Now(),
		},
	}
	b.c.instances[id], b.c.logs[id] = in, in.log
	go func() {
		defer close(in.done)
		err := sample.Run(ctx, sample.Config{
			Listener: ln, Version: version, Instance: id, Knobs: knobs, Log: in.log,
			ShutdownTimeout: rev.Spec.GracePeriod(),
		})
		b.c.mu.Lock()
		if err != nil && !in.stopping {
			in.info.State, in.info.Ready, in.info.LastExit = rollout.BackingOff, false, err.Error()
			in.info.Restarts++
		}
		owner := in.owner
		b.c.mu.Unlock()
		if owner != nil {
			owner.changed(in.info.App, in.info.Env)
		}
	}()
	b.event(in.info, rollout.Normal, rollout.ReasonInstanceStarted, "instance %s of revision %d started on %s", id, rev.Number, in.info.Addr)
	b.supervise(in)
	return nil
}

// supervise probes in's readiness until it is ready, stopped, or b is released.
func (b *Backend) supervise(in *instance) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		client := http.Client{Timeout: time.Second}
		t := time.NewTicker(probePeriod)
		defer t.Stop()
		for {
			select {
			case <-b.released:
				return
			case <-in.done:
				return
			case <-t.C:
			}
			resp, err := client.Get("http://" + in.info.Addr + "/ready")
			if err != nil {
				continue
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				continue
			}
			b.c.mu.Lock()
			ready := !in.stopping && in.info.State == rollout.Starting
			if ready {
				in.info.State, in.info.Ready, in.info.ReadySince = rollout.Running, true, time.Now()
			}
			b.c.mu.Unlock()
			if ready {
				b.changed(in.info.App, in.info.Env)
			}
			return
		}
	}()
}

// stopLocked stops in gracefully in the background: out of traffic,
// drained, then its workload ends; c.mu is held.
func (b *Backend) stopLocked(in *instance) {
	if in.stopping {
		return
	}
	in.stopping = true
	in.info.State, in.info.Ready = rollout.Terminating, false
	grace := in.rev.Spec.GracePeriod()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.changed(in.info.App, in.info.Env)
		if b.opts.Drain != nil {
			ctx, cancel := context.WithTimeout(context.Background(), grace)
			_ = b.opts.Drain(ctx, in.info.Addr)
			cancel()
		}
		in.stop()
		<-in.done
		b.c.mu.Lock()
		delete(b.c.instances, in.info.ID)
		b.c.mu.Unlock()
		b.event(in.info, rollout.Normal, rollout.ReasonInstanceStopped, "instance %s of revision %d stopped", in.info.ID, in.info.Revision)
		b.changed(in.info.App, in.info.Env)
	}()
}

// Instances implements rollout.Backend: this Backend's instances of app in
// env, sorted by revision and ID.
func (b *Backend) Instances(app, env string) []rollout.Instance {
	b.c.mu.Lock()
	var out []rollout.Instance
	for _, in := range b.c.instances {
		if in.owner == b && in.info.App == app && in.info.Env == env {
			out = append(out, in.info)
		}
	}
	b.c.mu.Unlock()
	slices.SortFunc(out, func(x, y rollout.Instance) int {
		if x.Revision != y.Revision {
			return x.Revision - y.Revision
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out
}

// Recover implements backend.Backend: it adopts every released instance
// of the Cluster, and stops those whose revision lookup does not know.
func (b *Backend) Recover(ctx context.Context, lookup backend.RevisionLookup) error {
	b.c.mu.Lock()
	var orphans []*instance
	for _, in := range b.c.instances {
		if in.owner == nil {
			orphans = append(orphans, in)
		}
	}
	b.c.mu.Unlock()
	for _, in := range orphans {
		if err := ctx.Err(); err != nil {
			return err
		}
		rev, err := lookup(in.info.App, in.info.Env, in.info.Revision)
		b.c.mu.Lock()
		in.owner = b
		if err == nil {
			in.rev = rev
		}
		b.c.mu.Unlock()
		b.event(in.info, rollout.Normal, rollout.ReasonInstanceAdopted, "instance %s of revision %d adopted", in.info.ID, in.info.Revision)
		if err != nil {
			b.c.mu.Lock()
			b.stopLocked(in)
			b.c.mu.Unlock()
			continue
		}
		if in.info.State == rollout.Starting {
			b.supervise(in)
		}
		b.changed(in.info.App, in.info.Env)
	}
	return nil
}

// Release implements backend.Backend: the instances keep serving, owned
// by no Backend until one Recovers them.
func (b *Backend) Release() {
	b.c.mu.Lock()
	b.closed = true
	b.c.mu.Unlock()
	b.once.Do(func() { close(b.released) })
	b.wg.Wait()
	b.c.mu.Lock()
	for _, in := range b.c.instances {
		if in.owner == b {
			in.owner = nil
		}
	}
	b.c.mu.Unlock()
}

// Shutdown implements backend.Backend: it stops this Backend's instances
// and waits until they are gone, or until ctx ends.
func (b *Backend) Shutdown(ctx context.Context) error {
	b.c.mu.Lock()
	b.closed = true
	var mine []*instance
	for _, in := range b.c.instances {
		if in.owner == b {
			mine = append(mine, in)
			b.stopLocked(in)
		}
	}
	b.c.mu.Unlock()
	for _, in := range mine {
		select {
		case <-in.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	stopped := make(chan struct{})
	go func() { b.wg.Wait(); close(stopped) }()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return errors.Join(ctx.Err(), fmt.Errorf("instances still stopping"))
	}
}

func (b *Backend) changed(app, env string) {
	if b.opts.OnChange != nil {
		b.opts.OnChange(app, env)
	}
}

func (b *Backend) event(info rollout.Instance, typ rollout.EventType, reason rollout.Reason, format string, args ...any) {
	if b.opts.Event != nil {
		b.opts.Event(rollout.Event{Time: time.Now(), App: info.App, Env: info.Env, Type: typ, Reason: reason,
			Message: fmt.Sprintf(format, args...), Actor: "gantry"})
	}
}
