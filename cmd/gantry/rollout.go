package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
)

func init() { register(newRolloutCmd) }

func newRolloutCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout",
		Short: "Inspect and steer rollouts: list, status, history, promote, abort, pause, resume, retry, undo",
	}
	list := newAppsCmd()
	list.Use, list.Aliases, list.Short = "list", []string{"ls"}, "List every app's rollout in every environment (same as gantry apps)"
	cmd.AddCommand(list, newRolloutStatusCmd(), newRolloutHistoryCmd(), newRolloutUndoCmd(),
		newRolloutCommandCmd("promote", "Move the rollout past its current step (a pause, or a step holding for evidence); --full: to the end"),
		newRolloutCommandCmd("abort", "Stop the rollout: the stable revision gets all traffic back and the new one is removed"),
		newRolloutCommandCmd("pause", "Hold the rollout where it is; the analysis keeps watching"),
		newRolloutCommandCmd("resume", "Let a paused rollout go on"),
		newRolloutCommandCmd("retry", "Roll out again the revision of a rolled back, aborted or failed rollout"),
	)
	return cmd
}

// newRolloutCommandCmd builds one of the commands that steer a rollout.
func newRolloutCommandCmd(name, short string) *cobra.Command {
	var r remote
	var body api.CommandBody
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   name + " APP [--env ENV] [--reason TEXT]",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, env, err := r.target(ctx, args[0])
			if err != nil {
				return err
			}
			ro, err := c.Command(ctx, args[0], env, name, body)
			if err != nil {
				return err
			}
			return reportStarted(ctx, c, r, ro.ID, wait, timeout, cmd.OutOrStdout(), commandLine(name, ro))
		},
	}
	cmd.Flags().StringVar(&body.Reason, "reason", "", "why, recorded with the event")
	if name == "promote" {
		cmd.Flags().BoolVar(&body.Full, "full", false, "skip every remaining step: the new revision takes all traffic")
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the rollout until it ends")
	addTimeout(cmd, &timeout, "with --wait")
	r.addFlags(cmd, true)
	return cmd
}

func newRolloutHistoryCmd() *cobra.Command {
	var r remote
	var limit int
	cmd := &cobra.Command{
		Use:   "history APP [--env ENV]",
		Short: "List an environment's rollouts, newest first, with why each ended",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, env, err := r.target(ctx, args[0])
			if err != nil {
				return err
			}
			hs, err := c.History(ctx, args[0], env, limit)
			if err != nil {
				return err
			}
			if r.json() {
				return printJSON(cmd.OutOrStdout(), hs)
			}
			printHistory(cmd.OutOrStdout(), hs)
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many rollouts to list")
	r.addFlags(cmd, true)
	return cmd
}

func printHistory(w io.Writer, hs []api.HistoryEntry) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLLOUT\tFROM\tTO\tSTRATEGY\tPHASE\tSTARTED\tBY\tREASON")
	for _, h := range hs {
		from := "-"
		if h.FromRevision != 0 {
			from = revisionText(h.FromRevision, h.FromVersion, h.FromPruned)
		}
		reason := string(h.Reason)
		if h.Phase.Final() && h.Message != "" && h.Reason != "RolloutSucceeded" {
			reason += ": " + h.Message
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.ID, from, revisionText(h.ToRevision, h.ToVersion, h.ToPruned), h.Strategy, h.Phase,
			h.CreatedAt.Local().Format("2006-01-02 15:04:05"), h.Actor, reason)
	}
	tw.Flush()
}

// revisionText renders "3 (v1.4.0)", or "3 (pruned)" for a revision the
// history limit deleted.
func revisionText(n int, version string, pruned bool) string {
	if pruned {
		return fmt.Sprintf("%d (pruned)", n)
	}
	return fmt.Sprintf("%d (%s)", n, version)
}

func newRolloutUndoCmd() *cobra.Command {
	var r remote
	var to int
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "undo APP [--env ENV] [--to-revision N] [--wait]",
		Short: "Roll back to the previous revision, or to --to-revision",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, env, err := r.target(ctx, args[0])
			if err != nil {
				return err
			}
			if to < 0 {
				return fmt.Errorf("--to-revision %d: give a revision number from gantry rollout history", to)
			}
			ro, err := c.Undo(ctx, args[0], env, to)
			if err != nil {
				return err
			}
			return reportStarted(ctx, c, r, ro.ID, wait, timeout, cmd.OutOrStdout(), fmt.Sprintf("rollout %d started: back to revision %d", ro.ID, ro.ToRevision))
		},
	}
	cmd.Flags().IntVar(&to, "to-revision", 0, "revision to go back to (default: the one before the current)")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the rollout until it ends")
	addTimeout(cmd, &timeout, "with --wait")
	r.addFlags(cmd, true)
	return cmd
}

// reportStarted prints a started rollout, or follows it with --wait.
func reportStarted(ctx context.Context, c *client.Client, r remote, id int64, wait bool, timeout time.Duration, out io.Writer, line string) error {
	ro, err := c.Rollout(ctx, id)
	if err != nil {
		return err
	}
	if wait {
		if !r.json() {
			fmt.Fprintln(out, line)
		}
		return waitRollout(ctx, c, ro, timeout, r.json(), out)
	}
	if r.json() {
		return printJSON(out, ro)
	}
	fmt.Fprintln(out, line)
	return nil
}
