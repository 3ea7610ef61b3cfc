package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/rollout"
)

func init() { register(newDeployCmd) }

func newDeployCmd() *cobra.Command {
	var r remote
	var ver string
	var wait bool
	var timeout time.Duration
	var g gateFlags
	cmd := &cobra.Command{
		Use:   "deploy APP --env ENV --version V [--wait] [--dry-run] [--override-reason R]",
		Short: "Roll out a version of an app to an environment",
		Long: `Roll out a version of an app to an environment with the strategy its spec sets.

With --wait, follow the rollout until it ends. Exit codes: 0 succeeded,
2 rolled back or aborted, 3 failed (needs a person), 4 superseded by a newer
deploy, 6 refused by a gate, 1 any other error (including --timeout).

The environment's gates run first (docs/pipeline.md): release window and
freezes, promotion proof, approvals, rollback target, migrations, alert
rules, pre-rollout hooks. --dry-run shows each gate's result and deploys
nothing (exit 6 when a gate would refuse).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := rollout.CheckVersion(ver); err != nil {
				return fmt.Errorf("--version: %s", strings.TrimPrefix(err.Error(), rollout.ErrInvalid.Error()+": "))
			}
			c, env, err := r.target(ctx, args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			res, err := c.DeployWith(ctx, args[0], env, g.request(ver))
			if done, err := g.report(out, res, err, r.json()); done {
				return err
			}
			ro := *res.Rollout
			if !wait {
				if r.json() {
					return printJSON(out, ro)
				}
				fmt.Fprintf(out, "rollout %d started: %s %s to revision %d in %s\n", ro.ID, args[0], ver, ro.ToRevision, env)
				return nil
			}
			if !r.json() {
				fmt.Fprintf(out, "rollout %d: %s %s to revision %d in %s\n", ro.ID, args[0], ver, ro.ToRevision, env)
			}
			return waitRollout(ctx, c, ro, timeout, r.json(), out)
		},
	}
	cmd.Flags().StringVar(&ver, "version", "", "version to deploy (fills {{.Version}} in the workload): letters, digits and . _ - + = , up to 128 characters")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the rollout until it ends; the exit code tells how it ended")
	addTimeout(cmd, &timeout, "with --wait")
	g.addFlags(cmd)
	r.addFlags(cmd, true)
	return cmd
}

// waitRollout follows ro, printing each new event, and turns its end into an exit code.
func waitRollout(ctx context.Context, c *client.Client, ro rollout.Rollout, timeout time.Duration, asJSON bool, out io.Writer) error {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errTimedOut)
	defer cancel()
	var after int64
	final, err := c.WaitRollout(ctx, ro.ID, 500*time.Millisecond, func(cur rollout.Rollout) {
		if asJSON {
			return
		}
		evs, err := c.Events(ctx, ro.App, ro.Env, after, ro.ID)
		if err != nil {
			return
		}
		for _, e := range evs {
			after = e.ID
			fmt.Fprintf(out, "  %s  %-8s %-22s %s\n", e.Time.Local().Format("15:04:05"), e.Type, e.Reason, e.Message)
		}
	})
	if err != nil {
		return stoppedWaiting(ctx, err, final, timeout)
	}
	if asJSON {
		if err := printJSON(out, final); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(out, "rollout %d %s", final.ID, final.Phase)
		if final.Reason != "" && final.Phase != rollout.Succeeded {
			fmt.Fprintf(out, ": %s: %s", final.Reason, final.Message)
		}
		fmt.Fprintln(out)
	}
	return rolloutExit(final)
}

// errTimedOut is the cause of a wait's end at its --timeout.
var errTimedOut = errors.New("timed out")

// stoppedWaiting explains why a wait for ro ended before ro did: Ctrl-C
// (exit 130), --timeout, or err. The rollout goes on in the server.
func stoppedWaiting(ctx context.Context, err error, ro rollout.Rollout, timeout time.Duration) error {
	follow := fmt.Sprintf("follow it with gantry rollout status %s --env %s --watch", ro.App, ro.Env)
	switch {
	case interrupted(ctx):
		return &codedError{exitInterrupted, fmt.Errorf("interrupted: rollout %d goes on in the server (%s); %s, or stop it with gantry rollout abort %s --env %s",
			ro.ID, ro.Phase, follow, ro.App, ro.Env)}
	case errors.Is(context.Cause(ctx), errTimedOut):
		return fmt.Errorf("rollout %d still %s after --timeout %s; it goes on in the server: %s", ro.ID, ro.Phase, timeout, follow)
	}
	return err
}

// addTimeout adds --timeout to a command that waits.
func addTimeout(cmd *cobra.Command, d *time.Duration, what string) {
	cmd.Flags().DurationVar(d, "timeout", 30*time.Minute, what+": give up after this long (exit 1; the rollout goes on in the server)")
}

// rolloutExit maps a finished rollout to the documented exit codes.
func rolloutExit(r rollout.Rollout) error {
	switch r.Phase {
	case rollout.Succeeded:
		return nil
	case rollout.RolledBack, rollout.Aborted:
		return &codedError{exitRolledBack, fmt.Errorf("rollout %d %s: %s", r.ID, r.Phase, r.Reason)}
	case rollout.Superseded:
		return &codedError{exitSuperseded, fmt.Errorf("rollout %d was superseded: %s", r.ID, r.Message)}
	default:
		return &codedError{exitFailed, fmt.Errorf("rollout %d %s: %s: %s", r.ID, r.Phase, r.Reason, r.Message)}
	}
}
