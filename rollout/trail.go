package rollout

import (
	"context"
	"fmt"
)

// repairTrail restores the events of transitions a crash separated from
// their event: the engine stores a rollout's new phase first and its event
// second, so a server killed in between leaves a phase no event explains.
// For each app's latest rollouts it checks that an event records the
// current phase and, where none does, appends one saying so (a Warning, so
// the audit log takes it too).
func (e *Engine) repairTrail(ctx context.Context) error {
	apps, err := e.opts.Store.ListApps(ctx)
	if err != nil {
		return fmt.Errorf("list apps: %w", err)
	}
	for _, a := range apps {
		for _, env := range a.Spec.Environments {
			unlock := e.envs.lock(a.Name, env.Name)
			err := e.repairEnvTrail(ctx, a.Name, env.Name)
			unlock()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// repairEnvTrail is repairTrail for one environment; the caller holds its lock.
func (e *Engine) repairEnvTrail(ctx context.Context, app, env string) error {
	rs, err := e.opts.Store.ListRollouts(ctx, RolloutFilter{App: app, Env: env, Limit: 2})
	if err != nil {
		return fmt.Errorf("list rollouts: %w", err)
	}
	for _, r := range rs {
		if r.Phase == Pending {
			continue
		}
		evs, err := e.opts.Store.ListEvents(ctx, EventFilter{RolloutID: r.ID})
		if err != nil {
			return fmt.Errorf("list events of rollout %d: %w", r.ID, err)
		}
		if explains(evs, r.Phase) {
			continue
		}
		e.record(ctx, r, 0, r.Phase, fact{Type: Warning, Reason: ReasonTransitionRecovered, Details: r.Details,
			Message: fmt.Sprintf("rollout %d is %s (%s: %s); its transition event was lost when the server stopped, and is recorded now",
				r.ID, r.Phase, r.Reason, r.Message)})
	}
	return nil
}

// explains reports whether some event records a transition into phase.
func explains(evs []Event, phase Phase) bool {
	for _, ev := range evs {
		if ev.To == phase {
			return true
		}
	}
	return false
}
