package rollout

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrCannotStart marks a Backend.Scale error that retrying cannot fix.
var ErrCannotStart = errors.New("cannot start")

// Backend runs instances of revisions: local processes, or Kubernetes
// Deployments. Implementations pass the suite in backend/backendtest.
type Backend interface {
	// Scale sets how many instances of rev should run. It returns once the
	// wish is recorded; instances start and stop in the background. Stopping
	// is graceful: out of traffic first, drained, then terminated. An error
	// wrapping ErrCannotStart says rev's instances can never start (its
	// command is not found or not executable, its workload does not
	// render): retrying cannot help, so the engine ends the rollout at once.
	Scale(ctx context.Context, rev Revision, replicas int) error
	// Instances returns a snapshot of an app's instances in an environment,
	// of every revision and group, including those still terminating.
	Instances(app, env string) []Instance
}

// Groups of a revision's instances. Scale counts and starts instances of
// GroupPrimary only.
const (
	// GroupPrimary is a revision's serving instances (Instance.Group "").
	GroupPrimary = ""
	// GroupBaseline is a like-for-like baseline: fresh instances of the
	// stable revision that a canary is compared with. They take the
	// share Traffic.Baseline and the router counts them apart.
	GroupBaseline = "baseline"
)

// GroupBackend is a Backend that also runs a second group of a revision's
// instances beside its primary ones (the like-for-like baseline of a
// canary). The engine runs a like-for-like baseline only where a backend
// that implements it says RunsGroups, and otherwise compares a canary
// with the stable revision's primary instances.
type GroupBackend interface {
	// RunsGroups reports whether ScaleGroup works for app's instances in
	// env (a backend that sends environments to other backends asks the
	// one that runs env).
	RunsGroups(app, env string) bool
	// ScaleGroup is Scale for the instances of rev in group: it counts,
	// starts and stops only those, which carry Instance.Group = group.
	// ScaleGroup(ctx, rev, GroupPrimary, n) is Scale(ctx, rev, n).
	ScaleGroup(ctx context.Context, rev Revision, group string, replicas int) error
}

// InstanceState is where an instance is in its life.
type InstanceState int

// Instance states.
const (
	// Starting: the process runs but has not yet passed readiness.
	Starting InstanceState = iota + 1
	// Running: started; see Ready for whether it takes traffic.
	Running
	// BackingOff: it exited or failed liveness and waits to be restarted.
	BackingOff
	// Terminating: out of traffic, draining and stopping.
	Terminating
)

// String returns the state's name.
func (s InstanceState) String() string {
	switch s {
	case Starting:
		return "Starting"
	case Running:
		return "Running"
	case BackingOff:
		return "BackingOff"
	case Terminating:
		return "Terminating"
	}
	return fmt.Sprintf("InstanceState(%d)", int(s))
}

// MarshalText writes the state's name.
func (s InstanceState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name.
func (s *InstanceState) UnmarshalText(b []byte) error {
	for v := Starting; v <= Terminating; v++ {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("unknown instance state %q", b)
}

// Instance is one running copy of a revision.
type Instance struct {
	ID       string `json:"id"`
	App      string `json:"app"`
	Env      string `json:"env"`
	Revision int    `json:"revision"`
	Version  string `json:"version"`
	// Group is the instance's group within its revision: GroupPrimary
	// ("") or GroupBaseline.
	Group string        `json:"group,omitempty"`
	State InstanceState `json:"state"`
	// Addr is where it serves, host:port.
	Addr string `json:"addr"`
	PID  int    `json:"pid,omitempty"`
	// Ready says it passes readiness and takes traffic; ReadySince is when it became so.
	Ready      bool      `json:"ready"`
	ReadySince time.Time `json:"readySince,omitzero"`
	StartedAt  time.Time `json:"startedAt,omitzero"`
	// Restarts counts restarts after exits or liveness failures.
	Restarts int `json:"restarts"`
	// LastExit says why it last stopped, such as "exit status 2" or "liveness probe failed: HTTP 500".
	LastExit string `json:"lastExit,omitempty"`
	// LastExitAt is when that was; zero before the first exit.
	LastExitAt time.Time `json:"lastExitAt,omitzero"`
	// CPUMillis is CPU use in thousandths of a core, averaged over the last sample period.
	CPUMillis int64 `json:"cpuMillis"`
	// RSSBytes is resident memory.
	RSSBytes int64 `json:"rssBytes"`
	// OpenFiles is the number of file descriptors the instance's processes
	// hold; nil when the backend does not know.
	OpenFiles *int64 `json:"openFiles,omitempty"`
	// DiskReadBytes and DiskWriteBytes are the bytes the instance's live
	// processes caused to be read from and written to storage, since each
	// started (/proc/PID/io read_bytes and write_bytes); nil when the
	// backend does not know.
	DiskReadBytes  *uint64 `json:"diskReadBytes,omitempty"`
	DiskWriteBytes *uint64 `json:"diskWriteBytes,omitempty"`
	// Health is the body of the last liveness probe response (often
	// application/health+json); empty when none.
	Health string `json:"health,omitempty"`
}

// Available reports whether the instance has been ready for minReady.
func (i Instance) Available(now time.Time, minReady time.Duration) bool {
	return i.Ready && i.State == Running && !now.Before(i.ReadySince.Add(minReady))
}
