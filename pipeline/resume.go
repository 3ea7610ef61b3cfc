package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/gantry-dev/gantry/rollout"
)

// HookResumeWindow is how long after a rollout ended Resume still runs
// its end hooks when no hook ran for it (a server that stopped between
// the end and the hooks); older rollouts are left alone.
const HookResumeWindow = time.Hour

// Resume watches again, after a restart or a change of leader, the
// rollouts a deploy started whose post-rollout or on-rollback hooks have
// not run: those still in progress, and those that ended within
// HookResumeWindow with no HookRan or HookFailed event. A deploy is known
// by its GatesPassed or GatesOverridden event; hooks that ran in part
// before the stop are not run again.
func (d *Deployer) Resume(ctx context.Context) error {
	if d.Hooks == nil {
		return nil
	}
	recent, err := d.Gates.Rollouts.ListRollouts(ctx, rollout.RolloutFilter{Limit: 500})
	if err != nil {
		return fmt.Errorf("resume end hooks: %w", err)
	}
	now := d.Gates.now()
	for _, ro := range recent {
		if ro.Phase.Final() && now.Sub(ro.FinishedAt) > HookResumeWindow {
			continue
		}
		pending, err := d.hooksPending(ctx, ro.ID)
		if err != nil {
			return fmt.Errorf("resume end hooks of rollout %d: %w", ro.ID, err)
		}
		if pending {
			d.watch(ro)
		}
	}
	return nil
}

// hooksPending reports whether rollout id was started by a deploy and no
// end hook has run for it yet.
func (d *Deployer) hooksPending(ctx context.Context, id int64) (bool, error) {
	events, err := d.Gates.Rollouts.ListEvents(ctx, rollout.EventFilter{RolloutID: id})
	if err != nil {
		return false, err
	}
	deployed := false
	for _, e := range events {
		switch e.Reason {
		case rollout.ReasonHookRan, rollout.ReasonHookFailed:
			return false, nil
		case rollout.ReasonGatesPassed, rollout.ReasonGatesOverridden:
			deployed = true
		}
	}
	return deployed, nil
}
