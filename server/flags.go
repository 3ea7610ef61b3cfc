package server

import (
	"context"
	"fmt"

	"github.com/gantry-dev/gantry/featureflag"
	"github.com/gantry-dev/gantry/rollout"
)

// flagSetter sets feature flags for the engine's canary setFlag steps,
// tagging each change with its rollout, so a rollback can find and revert
// exactly those.
type flagSetter struct{ flags *featureflag.Catalog }

var _ rollout.FlagSetter = flagSetter{}

func flagTag(r rollout.Rollout) string { return fmt.Sprintf("rollout %d step ", r.ID) }

func (f flagSetter) SetFlag(ctx context.Context, r rollout.Rollout, name string, pct float64) error {
	reason := fmt.Sprintf("%s%d: setFlag %g%% (%s %s)", flagTag(r), r.Step+1, pct, r.App, r.Env)
	_, err := f.flags.SetRollout(ctx, r.Env, name, pct, "gantry", reason)
	return err
}

func (f flagSetter) RestoreFlags(ctx context.Context, r rollout.Rollout) ([]string, error) {
	out, err := f.flags.RevertTagged(ctx, r.Env, "gantry", flagTag(r), fmt.Sprintf("rollout %d rolled back", r.ID))
	names := make([]string, len(out))
	for i, ch := range out {
		names[i] = ch.After.Key
	}
	return names, err
}
