package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/rollout"
)

func init() { register(newEventsCmd) }

func newEventsCmd() *cobra.Command {
	var r remote
	var follow bool
	var rolloutID int64
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "events APP [--env ENV] [--rollout ID] [--follow]",
		Short: "List what happened to an app: rollout transitions, scaling, crashes, restarts, commands",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, env, err := r.target(ctx, args[0])
			if err != nil {
				return err
			}
			if rolloutID < 0 {
				return fmt.Errorf("--rollout %d: give a rollout ID from gantry rollout history", rolloutID)
			}
			if rolloutID != 0 {
				ro, err := c.Rollout(ctx, rolloutID)
				if err != nil {
					return fmt.Errorf("--rollout %d: %w (gantry rollout history %s --env %s lists them)", rolloutID, err, args[0], env)
				}
				if ro.App != args[0] || ro.Env != env {
					return fmt.Errorf("--rollout %d is a rollout of %s in %s, not of %s in %s", rolloutID, ro.App, ro.Env, args[0], env)
				}
			}
			if follow && timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeoutCause(ctx, timeout, errTimedOut)
				defer cancel()
			}
			var after int64
			out := cmd.OutOrStdout()
			for {
				evs, err := c.Events(ctx, args[0], env, after, rolloutID)
				if err != nil {
					return err
				}
				for _, e := range evs {
					after = e.ID
					if r.json() {
						if err := printJSON(out, e); err != nil {
							return err
						}
						continue
					}
					printEvent(out, e)
				}
				if !follow {
					return nil
				}
				if err := sleepCtx(ctx, time.Second); err != nil {
					return followEnded(ctx)
				}
			}
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new events until interrupted")
	cmd.Flags().Int64Var(&rolloutID, "rollout", 0, "only this rollout's events")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "with --follow: stop after this long (exit 0); 0: until Ctrl-C")
	r.addFlags(cmd, true)
	return cmd
}

// followEnded is how a command that follows (events --follow, logs -f)
// ends: at its --timeout with exit 0, on Ctrl-C with exit 130.
func followEnded(ctx context.Context) error {
	if interrupted(ctx) {
		return &codedError{exitInterrupted, errInterrupted}
	}
	return nil
}

func printEvent(w io.Writer, e rollout.Event) {
	ro := ""
	if e.RolloutID != 0 {
		ro = fmt.Sprintf("rollout %d ", e.RolloutID)
	}
	fmt.Fprintf(w, "%s  %-7s %-24s %s%s (%s)\n", e.Time.Local().Format("2006-01-02 15:04:05"), e.Type, e.Reason, ro, e.Message, e.Actor)
}
