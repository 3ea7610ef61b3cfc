package server

import (
	"context"

	"github.com/gantry-dev/gantry/rollout"
)

var (
	_ rollout.Autoscaler = (*envBackends)(nil)
	_ rollout.Autoscaler = (*heldBackend)(nil)
)

// Autoscale implements rollout.Autoscaler on the environment's backend;
// one without an autoscaler keeps the spec's count.
func (m *envBackends) Autoscale(ctx context.Context, rev rollout.Revision) (int, bool, error) {
	b, err := m.of(rev.App, rev.Env)
	if err != nil {
		return 0, false, nil
	}
	if a, ok := b.(rollout.Autoscaler); ok {
		return a.Autoscale(ctx, rev)
	}
	return 0, false, nil
}

// HoldScale implements rollout.Autoscaler on the environment's backend.
func (m *envBackends) HoldScale(ctx context.Context, app, env string) (int, bool, error) {
	b, err := m.of(app, env)
	if err != nil {
		return 0, false, nil
	}
	if a, ok := b.(rollout.Autoscaler); ok {
		return a.HoldScale(ctx, app, env)
	}
	return 0, false, nil
}

// Autoscale implements rollout.Autoscaler: a held environment (a
// database rollback runs) is not handed to the autoscaler.
func (b *heldBackend) Autoscale(ctx context.Context, rev rollout.Revision) (int, bool, error) {
	b.mu.Lock()
	held := b.held[envKey{rev.App, rev.Env}]
	b.mu.Unlock()
	if a, ok := b.Backend.(rollout.Autoscaler); ok && !held {
		return a.Autoscale(ctx, rev)
	}
	return 0, false, nil
}

// HoldScale implements rollout.Autoscaler where the wrapped backend does.
func (b *heldBackend) HoldScale(ctx context.Context, app, env string) (int, bool, error) {
	if a, ok := b.Backend.(rollout.Autoscaler); ok {
		return a.HoldScale(ctx, app, env)
	}
	return 0, false, nil
}
