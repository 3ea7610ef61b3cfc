package fake

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/rollout"
)

// Cluster holds the instances of every fake Backend made over it. The zero
// value is not usable; call NewCluster.
type Cluster struct {
	mu        sync.Mutex
	instances map[string]*instance  // by ID, until stopped
	logs      map[string]*logBuffer // by ID, kept after a stop
	next      int
}

// NewCluster returns an empty cluster.
func NewCluster() *Cluster {
	return &Cluster{instances: map[string]*instance{}, logs: map[string]*logBuffer{}}
}

// Factory makes fake Backends over c, for a backend.Registry.
func (c *Cluster) Factory() backend.Factory {
	return func(o backend.Options) (backend.Backend, error) { return New(c, o), nil }
}

// instance is one running copy of the sample workload.
type instance struct {
	rev rollout.Revision
	// owner supervises it (probes, stops); nil once released.
	owner *Backend
	info  rollout.Instance // guarded by Cluster.mu
	// stop ends the workload gracefully; done closes when it returned.
	stop context.CancelFunc
	done chan struct{}
	log  *logBuffer
	// stopping: a stop was asked for.
	stopping bool
}

// logBuffer is an instance's output, readable while it grows.
type logBuffer struct {
	app, env string // whose instance wrote it

	mu    sync.Mutex
	buf   bytes.Buffer
	grown chan struct{} // closed and replaced on every write
}

func newLogBuffer(app, env string) *logBuffer {
	return &logBuffer{app: app, env: env, grown: make(chan struct{})}
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.grown)
	l.grown = make(chan struct{})
	return l.buf.Write(p)
}

// from returns the bytes from offset on and a channel closed on the next write.
func (l *logBuffer) from(offset int64) ([]byte, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buf.Bytes()
	offset = min(max(offset, 0), int64(len(b)))
	return append([]byte(nil), b[offset:]...), l.grown
}

func (l *logBuffer) size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(l.buf.Len())
}

// newID names a new instance like the local backend does.
func (c *Cluster) newID(rev rollout.Revision, group string) string {
	c.next++
	if group != "" {
		return fmt.Sprintf("%s-%s-%d-%s-f%d", rev.App, rev.Env, rev.Number, group, c.next)
	}
	return fmt.Sprintf("%s-%s-%d-f%d", rev.App, rev.Env, rev.Number, c.next)
}
