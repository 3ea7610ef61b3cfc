// Package backend declares what gantry's server needs of every backend,
// whatever runs the instances (local processes in backend/local, a
// Kubernetes Deployment later), and the Registry that maps the names an
// environment's spec.backend may use to the factories that make them.
//
// The contract is rollout.Backend (Scale, Instances), which the engine
// drives, plus what the server needs around it: logs as a stream, adopting
// what an earlier leader left running (Recover), letting go on losing the
// lead (Release) and stopping everything (Shutdown). Implementations live
// in sub-packages and pass the suite in backend/backendtest; a backend
// knows addresses and instances, never routers or proxies: it reports
// changes through Options.OnChange and asks Options.Drain before it stops
// an instance.
package backend

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// Backend runs the instances of revisions. It is safe for concurrent use.
type Backend interface {
	// Scale and Instances are what the engine drives (rollout.Backend).
	rollout.Backend
	// Logs opens an instance's log: the output of all its runs, which stays
	// readable after the instance is stopped. With o.Follow the stream stays
	// open and delivers new output as it is written, until ctx ends or the
	// reader is closed; otherwise it ends at the log's current end. An
	// unknown instance (or one with no log) wraps rollout.ErrNotFound.
	Logs(ctx context.Context, app, env, instance string, o LogOptions) (io.ReadCloser, error)
	// Recover adopts the instances an earlier gantry (or the last leader)
	// left running and supervises them again, with the revision lookup
	// returns; an instance whose revision lookup does not know is stopped.
	// It also cleans up what an earlier gantry left half done. Call it once,
	// after the factory and before the first Scale (on taking the lead).
	Recover(ctx context.Context, lookup RevisionLookup) error
	// Release stops supervising and leaves every instance running, for the
	// next leader (or the next server on the same data) to adopt. The
	// Backend is unusable afterwards.
	Release()
	// Shutdown stops every instance gracefully (out of traffic, drained,
	// terminated) and returns when all are gone, or with ctx's error once
	// the rest are killed. Scale fails afterwards.
	Shutdown(ctx context.Context) error
}

// RevisionLookup returns a stored revision of app in env, or an error
// wrapping rollout.ErrNotFound when there is none.
type RevisionLookup func(app, env string, revision int) (rollout.Revision, error)

// LogOptions say what part of a log to read.
type LogOptions struct {
	// TailBytes starts the stream this many bytes before the log's end;
	// 0: from its beginning.
	TailBytes int64
	// Follow keeps the stream open for new output until the context ends
	// or the reader is closed; false: the stream ends at the current end.
	Follow bool
	// Since starts the stream at the output written at or after this time
	// (with TailBytes, whichever starts later); a backend may start up to a
	// few seconds earlier (the local one: one StatsInterval). Zero: no limit.
	Since time.Time
}

// Options are what the server gives every backend it makes.
type Options struct {
	// DataDir is the server's data directory; a backend may keep files
	// under it (records, logs). Required.
	DataDir string
	// BaseDir resolves relative workload paths: the spec file's
	// directory. Empty: the current working directory.
	BaseDir string
	// OnChange is called whenever an instance's state or readiness changes
	// or it is removed, before it is drained or stopped, so that the router
	// can take it out of traffic first. Nil: not called.
	OnChange func(app, env string)
	// Drain waits until no request to addr (host:port) is in flight; the
	// context ends at the revision's termination grace period. Nil: no wait.
	Drain func(ctx context.Context, addr string) error
	// Event receives what happens to instances (starts, exits, restarts,
	// adoptions; Warning for bad news). Nil: dropped.
	Event func(rollout.Event)
}

// Factory makes a backend.
type Factory func(Options) (Backend, error)

// Registry maps a backend's name, as environments[].backend names it, to
// its factory. An environment without a backend uses spec.BackendLocal.
type Registry map[string]Factory

// Names returns the registered names, sorted.
func (r Registry) Names() []string {
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Lookup returns the factory of the backend called name ("" is
// spec.BackendLocal). An unknown name is an error that lists the known ones.
func (r Registry) Lookup(name string) (Factory, error) {
	if name == "" {
		name = spec.BackendLocal
	}
	if f, ok := r[name]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("backend %q is not available on this server; known backends: %s", name, strings.Join(r.Names(), ", "))
}
