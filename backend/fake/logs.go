package fake

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/rollout"
)

// Logs implements backend.Backend from the instance's in-memory log,
// which the Cluster keeps after the instance stops.
func (b *Backend) Logs(ctx context.Context, app, env, instance string, o backend.LogOptions) (io.ReadCloser, error) {
	b.c.mu.Lock()
	log, ok := b.c.logs[instance]
	b.c.mu.Unlock()
	if !ok || log.app != app || log.env != env {
		return nil, fmt.Errorf("log of instance %q of %s/%s: %w", instance, app, env, rollout.ErrNotFound)
	}
	offset := int64(0)
	if o.TailBytes > 0 {
		offset = max(log.size()-o.TailBytes, 0)
	}
	return &reader{log: log, offset: offset, follow: o.Follow, ctx: ctx, closed: make(chan struct{})}, nil
}

// reader reads a logBuffer from an offset; following, it waits at the end
// for more until its context ends or it is closed.
type reader struct {
	log    *logBuffer
	offset int64
	follow bool
	ctx    context.Context
	closed chan struct{}
	once   sync.Once
}

func (r *reader) Read(p []byte) (int, error) {
	for {
		b, grown := r.log.from(r.offset)
		if len(b) > 0 {
			n := copy(p, b)
			r.offset += int64(n)
			return n, nil
		}
		if !r.follow {
			return 0, io.EOF
		}
		select {
		case <-grown:
		case <-r.ctx.Done():
			return 0, io.EOF
		case <-r.closed:
			return 0, io.EOF
		}
	}
}

// Close ends the stream; a Read waiting for output returns io.EOF.
func (r *reader) Close() error {
	r.once.Do(func() { close(r.closed) })
	return nil
}
