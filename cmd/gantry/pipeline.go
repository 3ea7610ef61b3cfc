package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/pipeline"
)

func init() {
	register(newPromoteCmd)
	register(newApproveCmd)
	register(newPipelineCmd)
	register(newReleaseCmd)
}

func newPromoteCmd() *cobra.Command {
	var r remote
	var from, to, version string
	var wait bool
	var timeout time.Duration
	var g gateFlags
	cmd := &cobra.Command{
		Use:   "promote APP --from ENV --to ENV [--wait] [--dry-run] [--override-reason R [--version V]]",
		Short: "Deploy to an environment exactly the revision that succeeded in the previous one",
		Long: `Deploy into --to the version that serves in --from (its stable revision), with
the same applied spec, behind --to's gates. A version that never succeeded in
--from is refused unless --override-reason is given (audited); --version then
names it. --from defaults to --to's promoteFrom.

Exit codes as gantry deploy: 0 succeeded (or started, without --wait),
2 rolled back or aborted, 3 failed, 4 superseded, 6 refused by a gate, 1 other.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if to == "" {
				return errors.New("--to is required: name the environment to promote into, such as --to production")
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			res, err := c.Promote(ctx, args[0], to, api.PromotionRequest{From: from, Version: version, OverrideReason: g.override, DryRun: g.dryRun})
			if done, err := g.report(out, res, err, r.json()); done {
				return err
			}
			ro := *res.Rollout
			if !r.json() {
				fmt.Fprintf(out, "rollout %d: promoting %s to revision %d in %s\n", ro.ID, args[0], ro.ToRevision, to)
			}
			if !wait {
				if r.json() {
					return printJSON(out, res)
				}
				return nil
			}
			return waitRollout(ctx, c, ro, timeout, r.json(), out)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "environment the revision succeeded in (default: --to's promoteFrom)")
	cmd.Flags().StringVar(&to, "to", "", "environment to deploy to (required)")
	cmd.Flags().StringVar(&version, "version", "", "with --override-reason: a version other than --from's stable one")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the rollout until it ends; the exit code tells how it ended")
	addTimeout(cmd, &timeout, "with --wait")
	g.addFlags(cmd)
	r.addFlags(cmd, false)
	return cmd
}

func newApproveCmd() *cobra.Command {
	var r remote
	var version, comment string
	cmd := &cobra.Command{
		Use:   "approve APP --env ENV --version V [--comment TEXT]",
		Short: "Approve a version for an environment whose policy requires approvals",
		Long: `Record your approval of a version for an environment. It needs the role the
environment's policy.approval names (default approver) and, unless the policy
sets allowRequester, you cannot approve a version whose pipeline run you
started, nor does your approval count for your own deploy (four eyes).
Approvals expire after policy.approval.expiry (default 24h).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if version == "" {
				return errors.New("--version is required: name the version you approve")
			}
			c, env, err := r.target(ctx, args[0])
			if err != nil {
				return err
			}
			a, err := c.Approve(ctx, args[0], env, api.ApproveRequest{Version: version, Comment: comment})
			if err != nil {
				return err
			}
			if r.json() {
				return printJSON(cmd.OutOrStdout(), a)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s approved %s %s for %s\n", a.Approver, args[0], a.Version, env)
			return nil
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "version to approve (required)")
	cmd.Flags().StringVar(&comment, "comment", "", "why, kept with the approval")
	r.addFlags(cmd, true)
	return cmd
}

func newPipelineCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pipeline",
		Short: "Run a version through every environment in order (run, status, cancel)",
	}
	cmd.AddCommand(newPipelineRunCmd(), newPipelineStatusCmd(), newPipelineCancelCmd())
	return cmd
}

func newPipelineRunCmd() *cobra.Command {
	var r remote
	var version, override string
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "run APP --version V [--wait] [--override-reason R]",
		Short: "Start a pipeline run: every environment in order, with its approval, deploy, smoke, perf and promote stages",
		Long: `Start a pipeline run of a version through the app's environments in the order
the spec lists them. Per environment: an approval (policy.approval, and by
default in production), the deploy behind its gates, the blue-green smoke
tests, the performance test (policy.perfTest), and the promotion. The run
goes on in the server, which keeps it across restarts.

With --wait, follow the run until it ends. Exit codes: 0 succeeded, 6 a gate
refused a deploy, 7 a stage failed (smoke, perf, a rollout rolled back, no
approval in time), 8 cancelled, 1 any other error (including --timeout).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if version == "" {
				return errors.New("--version is required: name the version to run through the pipeline")
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			run, err := c.StartRun(ctx, args[0], api.RunRequest{Version: version, OverrideReason: override})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if !wait {
				if r.json() {
					return printJSON(out, run)
				}
				fmt.Fprintf(out, "pipeline run %d started: %s %s through %s\n", run.ID, run.App, run.Version, envsOf(run))
				return nil
			}
			if !r.json() {
				fmt.Fprintf(out, "pipeline run %d: %s %s through %s\n", run.ID, run.App, run.Version, envsOf(run))
			}
			return waitRun(ctx, c, run, timeout, r.json(), out)
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "version to run (required)")
	cmd.Flags().StringVar(&override, "override-reason", "", "emergency override for every deploy of the run (window, freeze, promotion gates); audited")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the run until it ends; the exit code tells how it ended")
	addTimeout(cmd, &timeout, "with --wait")
	r.addFlags(cmd, false)
	return cmd
}

func envsOf(run pipeline.Run) string {
	var envs []string
	for _, s := range run.Stages {
		if len(envs) == 0 || envs[len(envs)-1] != s.Env {
			envs = append(envs, s.Env)
		}
	}
	return strings.Join(envs, " → ")
}

// waitRun follows a run, printing each stage as it ends, and turns its
// end into an exit code.
func waitRun(ctx context.Context, c *client.Client, run pipeline.Run, timeout time.Duration, asJSON bool, out io.Writer) error {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errTimedOut)
	defer cancel()
	printed := 0
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		cur, err := c.Run(ctx, run.ID)
		if err == nil {
			run = cur
			for ; !asJSON && printed < len(run.Stages) && finished(run.Stages[printed]); printed++ {
				printStage(out, run.Stages[printed])
			}
			if run.State.Final() {
				break
			}
		}
		select {
		case <-ctx.Done():
			if interrupted(ctx) {
				return &codedError{exitInterrupted, fmt.Errorf("interrupted: pipeline run %d goes on in the server; follow it with gantry pipeline status %s %d", run.ID, run.App, run.ID)}
			}
			return fmt.Errorf("pipeline run %d still %s after --timeout %s; it goes on in the server: gantry pipeline status %s %d", run.ID, run.State, timeout, run.App, run.ID)
		case <-t.C:
		}
	}
	if asJSON {
		if err := printJSON(out, run); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(out, "pipeline run %d %s: %s\n", run.ID, run.State, run.Reason)
	}
	return runExit(run)
}

func finished(s pipeline.Stage) bool {
	return s.Status == pipeline.StagePassed || s.Status == pipeline.StageFailed || s.Status == pipeline.StageSkipped
}

func printStage(out io.Writer, s pipeline.Stage) {
	fmt.Fprintf(out, "  %-22s %-7s %8s  %s  %s\n", s.Name(), s.Status, s.Duration().Round(time.Millisecond), s.Actor, s.Reason)
}

// runExit maps a finished run to the documented exit codes.
func runExit(run pipeline.Run) error {
	switch run.State {
	case pipeline.RunSucceeded:
		return nil
	case pipeline.RunCancelled:
		return &codedError{exitCancelled, fmt.Errorf("pipeline run %d was cancelled: %s", run.ID, run.Reason)}
	}
	for _, s := range run.Stages {
		if s.Status == pipeline.StageFailed && s.Kind == pipeline.StageDeploy && !s.Checklist.Passed() {
			return &codedError{exitRefused, fmt.Errorf("pipeline run %d: %s", run.ID, run.Reason)}
		}
	}
	return &codedError{exitStageFailed, fmt.Errorf("pipeline run %d failed: %s", run.ID, run.Reason)}
}

func newPipelineStatusCmd() *cobra.Command {
	var r remote
	cmd := &cobra.Command{
		Use:   "status APP [RUN]",
		Short: "Show a pipeline run's stages with their results, timings and actors (default: the newest run)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, run, err := r.pickRun(cmd.Context(), args)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if r.json() {
				return printJSON(out, run)
			}
			fmt.Fprintf(out, "pipeline run %d of %s %s by %s: %s", run.ID, run.App, run.Version, run.Actor, run.State)
			if run.Reason != "" {
				fmt.Fprintf(out, ": %s", run.Reason)
			}
			fmt.Fprintln(out)
			for _, s := range run.Stages {
				printStage(out, s)
			}
			return nil
		},
	}
	r.addFlags(cmd, false)
	return cmd
}

// pickRun reads the run args name: APP and an ID, or APP's newest run.
func (r *remote) pickRun(ctx context.Context, args []string) (*client.Client, pipeline.Run, error) {
	c, err := r.client()
	if err != nil {
		return nil, pipeline.Run{}, err
	}
	run, err := pickRun(ctx, c, args)
	return c, run, err
}

func pickRun(ctx context.Context, c *client.Client, args []string) (pipeline.Run, error) {
	if len(args) == 2 {
		id, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil || id < 1 {
			return pipeline.Run{}, fmt.Errorf("run %q is not a run number; see gantry pipeline status %s", args[1], args[0])
		}
		return c.Run(ctx, id)
	}
	runs, err := c.Runs(ctx, args[0])
	if err != nil {
		return pipeline.Run{}, err
	}
	if len(runs) == 0 {
		return pipeline.Run{}, fmt.Errorf("%s has no pipeline runs; start one with gantry pipeline run %s --version V", args[0], args[0])
	}
	return runs[0], nil
}

func newPipelineCancelCmd() *cobra.Command {
	var r remote
	var reason string
	cmd := &cobra.Command{
		Use:   "cancel APP [RUN] [--reason TEXT]",
		Short: "Cancel a pipeline run at its current stage (default: the newest run); rollouts it started go on",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, run, err := r.pickRun(cmd.Context(), args)
			if err != nil {
				return err
			}
			run, err = c.CancelRun(cmd.Context(), run.ID, reason)
			if err != nil {
				return err
			}
			if r.json() {
				return printJSON(cmd.OutOrStdout(), run)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "pipeline run %d %s\n", run.ID, run.State)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, kept in the audit log")
	r.addFlags(cmd, false)
	return cmd
}
