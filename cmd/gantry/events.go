package main

import (
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
					return nil
				}
			}
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new events until interrupted")
	cmd.Flags().Int64Var(&rolloutID, "rollout", 0, "only this rollout's events")
	r.addFlags(cmd, true)
	return cmd
}

func printEvent(w io.Writer, e rollout.Event) {
	ro := ""
	if e.RolloutID != 0 {
		ro = fmt.Sprintf("rollout %d ", e.RolloutID)
	}
	fmt.Fprintf(w, "%s  %-7s %-24s %s%s (%s)\n", e.Time.Local().Format("2006-01-02 15:04:05"), e.Type, e.Reason, ro, e.Message, e.Actor)
}
