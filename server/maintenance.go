package server

import (
	"context"
	"fmt"
	"sync"

	"github.com/gantry-dev/gantry/rollout"
)

// heldBackend is the backend the engine drives: while an environment is
// held (a database rollback runs), every Scale of it is to zero, whatever
// the engine plans.
type heldBackend struct {
	rollout.Backend

	mu   sync.Mutex
	held map[envKey]bool
}

var (
	_ rollout.Backend      = (*heldBackend)(nil)
	_ rollout.GroupBackend = (*heldBackend)(nil)
)

func newHeldBackend(b rollout.Backend) *heldBackend {
	return &heldBackend{Backend: b, held: map[envKey]bool{}}
}

// Scale implements rollout.Backend.
func (b *heldBackend) Scale(ctx context.Context, rev rollout.Revision, n int) error {
	b.mu.Lock()
	if b.held[envKey{rev.App, rev.Env}] {
		n = 0
	}
	b.mu.Unlock()
	return b.Backend.Scale(ctx, rev, n)
}

// RunsGroups implements rollout.GroupBackend where the wrapped backend does.
func (b *heldBackend) RunsGroups(app, env string) bool {
	gb, ok := b.Backend.(rollout.GroupBackend)
	return ok && gb.RunsGroups(app, env)
}

// ScaleGroup implements rollout.GroupBackend, held at zero like Scale.
func (b *heldBackend) ScaleGroup(ctx context.Context, rev rollout.Revision, group string, n int) error {
	b.mu.Lock()
	if b.held[envKey{rev.App, rev.Env}] {
		n = 0
	}
	b.mu.Unlock()
	gb, ok := b.Backend.(rollout.GroupBackend)
	if !ok {
		if n == 0 {
			return nil
		}
		return fmt.Errorf("scale revision %d %s: the backend runs no groups", rev.Number, group)
	}
	return gb.ScaleGroup(ctx, rev, group, n)
}

// hold starts or ends holding app's instances in env at zero.
func (b *heldBackend) hold(app, env string, on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if on {
		b.held[envKey{app, env}] = true
	} else {
		delete(b.held, envKey{app, env})
	}
}
