package rollout

import (
	"context"
	"fmt"

	"github.com/gantry-dev/gantry/spec"
)

// Autoscaler is a Backend under which something else (a Kubernetes
// HorizontalPodAutoscaler) sets the stable revision's replica count
// between rollouts. The engine hands the count to it while no rollout is
// active and takes it back, as it stands, when one starts: the rollout
// runs every step at that count, and the count goes back to the
// autoscaler, on the new stable revision, when the rollout ends.
type Autoscaler interface {
	// Autoscale hands the replica count of rev (stable, no rollout
	// active) to the autoscaler rev's spec asks for and returns the count
	// rev has now. ok is false when the spec asks for none, or rev has no
	// instances yet: then the spec's count applies.
	Autoscale(ctx context.Context, rev Revision) (replicas int, ok bool, err error)
	// HoldScale takes the replica count of app in env back from the
	// autoscaler for a rollout and returns the count the stable revision
	// had when it did: the same on every call until the next Autoscale.
	// ok is false when no autoscaler had it.
	HoldScale(ctx context.Context, app, env string) (replicas int, ok bool, err error)
}

// steadyReplicas is how many instances the stable revision keeps between
// rollouts: the autoscaler's count when the backend has one for it, else
// the spec's.
func (e *Engine) steadyReplicas(ctx context.Context, rev Revision) (int, error) {
	if a, ok := e.opts.Backend.(Autoscaler); ok {
		n, ok, err := a.Autoscale(ctx, rev)
		if err != nil {
			return 0, fmt.Errorf("autoscale revision %d: %w", rev.Number, err)
		}
		if ok {
			return n, nil
		}
	}
	return rev.Spec.ReplicaCount(), nil
}

// heldSpec is s with the replica count a rollout of app in env runs at:
// the one the autoscaler had reached when the rollout started, if any.
func (e *Engine) heldSpec(ctx context.Context, app, env string, s spec.AppSpec) (spec.AppSpec, error) {
	a, ok := e.opts.Backend.(Autoscaler)
	if !ok {
		return s, nil
	}
	n, ok, err := a.HoldScale(ctx, app, env)
	if err != nil {
		return s, fmt.Errorf("take the replica count back from the autoscaler: %w", err)
	}
	if ok {
		s.Replicas = &n
	}
	return s, nil
}
