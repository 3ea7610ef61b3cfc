package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/rollout"
)

// followPoll is how often a followed log is checked for new output.
const followPoll = 100 * time.Millisecond

// Logs opens an instance's log file, which holds the output of all its
// runs and stays after it is stopped. It wraps rollout.ErrNotFound when
// there is no such instance or it has written no log yet.
func (b *Backend) Logs(ctx context.Context, app, env, instanceID string, o backend.LogOptions) (io.ReadCloser, error) {
	notFound := func(why string) error {
		return fmt.Errorf("log of instance %q of %s/%s: %s: %w", instanceID, app, env, why, rollout.ErrNotFound)
	}
	for _, s := range []string{app, env, instanceID} {
		if s == "" || s == "." || s == ".." || strings.ContainsAny(s, `/\`) {
			return nil, notFound("no such instance")
		}
	}
	f, err := os.Open(b.logPath(app, env, instanceID))
	if errors.Is(err, fs.ErrNotExist) {
		if b.supervises(instanceID) {
			return nil, notFound("it has written no log yet")
		}
		return nil, notFound("no such instance")
	}
	if err != nil {
		return nil, fmt.Errorf("log of instance %q of %s/%s: %w", instanceID, app, env, err)
	}
	var start int64
	if fi, err := f.Stat(); err == nil && o.TailBytes > 0 && fi.Size() > o.TailBytes {
		start = fi.Size() - o.TailBytes
	}
	if !o.Since.IsZero() {
		start = max(start, sinceOffset(f.Name(), o.Since))
	}
	if start > 0 {
		if _, err := f.Seek(start, io.SeekStart); err != nil {
			f.Close()
			return nil, fmt.Errorf("log of instance %q of %s/%s: %w", instanceID, app, env, err)
		}
	}
	if !o.Follow {
		return f, nil
	}
	return &follower{f: f, ctx: ctx, closed: make(chan struct{})}, nil
}

// follower reads a growing file: at its end it waits for more, until its
// context ends or it is closed, then reports io.EOF.
type follower struct {
	ctx    context.Context
	closed chan struct{}
	once   sync.Once

	mu sync.Mutex // guards f against Close during a Read
	f  *os.File
}

func (r *follower) Read(p []byte) (int, error) {
	for {
		r.mu.Lock()
		if r.f == nil {
			r.mu.Unlock()
			return 0, io.EOF
		}
		n, err := r.f.Read(p)
		r.mu.Unlock()
		if n > 0 {
			return n, nil
		}
		if err != nil && err != io.EOF {
			return 0, err
		}
		select {
		case <-r.ctx.Done():
			return 0, io.EOF
		case <-r.closed:
			return 0, io.EOF
		case <-time.After(followPoll):
		}
	}
}

// Close ends the stream; a Read waiting for output returns io.EOF.
func (r *follower) Close() error {
	r.once.Do(func() { close(r.closed) })
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
