package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/release"
)

func newReleaseCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "release",
		Short: "Release records: a version's gates, approvers, pipeline timings and notes",
	}
	cmd.AddCommand(newReleaseShowCmd())
	return cmd
}

func newReleaseShowCmd() *cobra.Command {
	var r remote
	cmd := &cobra.Command{
		Use:   "show APP [VERSION] [--env ENV] [-o json]",
		Short: "Show the release record of a version (default: the stable one) in an environment (default: the last)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := r.client()
			if err != nil {
				return err
			}
			env := r.env
			if env == "" {
				a, err := c.App(ctx, args[0])
				if err != nil {
					return err
				}
				if len(a.Environments) == 0 {
					return fmt.Errorf("app %s has no environments", args[0])
				}
				env = a.Environments[len(a.Environments)-1]
			}
			version := ""
			if len(args) == 2 {
				version = args[1]
			}
			rec, err := c.Release(ctx, args[0], env, version)
			if err != nil {
				return err
			}
			if r.json() {
				return printJSON(cmd.OutOrStdout(), rec)
			}
			printRelease(cmd.OutOrStdout(), rec)
			return nil
		},
	}
	r.addFlags(cmd, true)
	return cmd
}

func printRelease(out io.Writer, rec release.Record) {
	fmt.Fprintf(out, "release %s %s in %s\n", rec.App, rec.Version, rec.Env)
	if rec.Revision > 0 {
		fmt.Fprintf(out, "  revision %d (spec %s), rollout %d %s, deployed by %s at %s", rec.Revision, rec.SpecDigest, rec.RolloutID, rec.Phase,
			rec.DeployedBy, rec.StartedAt.UTC().Format(time.RFC3339))
		if !rec.FinishedAt.IsZero() {
			fmt.Fprintf(out, ", took %s", rec.FinishedAt.Sub(rec.StartedAt).Round(time.Second))
		}
		fmt.Fprintln(out)
	}
	if rec.Override != "" {
		fmt.Fprintf(out, "  emergency override: %s\n", rec.Override)
	}
	fmt.Fprintln(out, "go/no-go checklist:")
	for _, g := range rec.Gates {
		fmt.Fprintf(out, "  %-10s %-16s %s\n", g.Status, g.Gate, g.Reason)
	}
	fmt.Fprintln(out, "approvals:")
	if len(rec.Approvals) == 0 {
		fmt.Fprintln(out, "  none")
	}
	for _, a := range rec.Approvals {
		fmt.Fprintf(out, "  %s at %s %s\n", a.Approver, a.At.UTC().Format(time.RFC3339), a.Comment)
	}
	if rec.PipelineRun > 0 {
		fmt.Fprintf(out, "pipeline run %d:\n", rec.PipelineRun)
		for _, s := range rec.Stages {
			printStage(out, s)
		}
	}
	if rec.Notes != "" {
		fmt.Fprintf(out, "release notes (%s):\n%s\n", rec.NotesSource, rec.Notes)
	} else if rec.NotesSource != "" {
		fmt.Fprintf(out, "release notes: %s\n", rec.NotesSource)
	}
}
