package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/featureflag"
)

func init() { register(newFlagsCmd) }

func newFlagsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "flags",
		Short: "List, change, apply, and revert feature flags",
		Long: `Feature flags belong to one environment. Define them in a flag file
(kind: Flags, reviewable in git) and apply it, or change one flag at a time.
Every change is a new version, audited with the old and new value, and can
be reverted. Applications read flags with any OpenFeature SDK through OFREP:
the provider's base URL is <server>/api/v1/environments/<env>, and its token
needs role viewer on that environment. See docs/flags.md.`,
	}
	cmd.AddCommand(newFlagsListCmd(), newFlagsGetCmd(), newFlagsSetCmd(), newFlagsApplyCmd(),
		newFlagsHistoryCmd(), newFlagsRevertCmd(), newFlagsDeleteCmd())
	return cmd
}

// flagCmd holds what every flags subcommand shares: the server and --env.
type flagCmd struct {
	remote
	env string
}

func (f *flagCmd) add(cmd *cobra.Command) {
	f.addFlags(cmd, false)
	cmd.Flags().StringVarP(&f.env, "env", "e", "", "environment of the flags (required)")
}

func (f *flagCmd) connect() (*client.Client, error) {
	if f.env == "" {
		return nil, errors.New("--env is required: the environment whose flags to use, such as --env production")
	}
	return f.client()
}

func newFlagsListCmd() *cobra.Command {
	var f flagCmd
	cmd := &cobra.Command{
		Use:   "list --env ENV",
		Short: "List an environment's flags",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.connect()
			if err != nil {
				return err
			}
			doc, err := c.Flags(cmd.Context(), f.env)
			if err != nil {
				return err
			}
			if f.json() {
				return printJSON(cmd.OutOrStdout(), doc)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "FLAG\tTYPE\tSTATE\tDEFAULT\tRULES\tROLLOUT")
			for _, fl := range doc.Flags {
				state, rollout := "enabled", "-"
				if fl.Disabled {
					state = "disabled"
				}
				if fl.Rollout != nil {
					rollout = fmt.Sprintf("%s %g%%", fl.Rollout.Variant, fl.Rollout.Percentage)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", fl.Key, fl.Type, state, fl.DefaultVariant, len(fl.Rules), rollout)
			}
			return tw.Flush()
		},
	}
	f.add(cmd)
	return cmd
}

func newFlagsGetCmd() *cobra.Command {
	var f flagCmd
	cmd := &cobra.Command{
		Use:   "get FLAG --env ENV",
		Short: "Show a flag's current version",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.connect()
			if err != nil {
				return err
			}
			v, err := c.Flag(cmd.Context(), f.env, args[0])
			if err != nil {
				return err
			}
			if f.json() {
				return printJSON(cmd.OutOrStdout(), v)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s in %s, version %d (%s by %s)\n%s\n", v.Key, v.Env, v.Version, v.Time.Local().Format(time.DateTime), v.Actor, v.Flag.Summary())
			return printJSON(cmd.OutOrStdout(), v.Flag)
		},
	}
	f.add(cmd)
	return cmd
}

func newFlagsSetCmd() *cobra.Command {
	var (
		f                 flagCmd
		pct               float64
		enable, disable   bool
		defaultV, reason  string
		fromFile, variant string
	)
	cmd := &cobra.Command{
		Use:   "set FLAG --env ENV [--percentage N] [--enable|--disable] [--default VARIANT] [-f flag.json]",
		Short: "Change one flag: its rollout percentage, kill switch or default variant, or its whole definition",
		Example: `  gantry flags set new-ai-agent --env production --percentage 25 --reason "widen the beta"
  gantry flags set new-ai-agent --env production --disable --reason "incident 4711"
  gantry flags set new-ai-agent --env staging -f new-ai-agent.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if enable && disable {
				return errors.New("--enable and --disable contradict each other: give one")
			}
			c, err := f.connect()
			if err != nil {
				return err
			}
			key := args[0]
			var def featureflag.Flag
			var base int64
			if fromFile != "" {
				data, err := os.ReadFile(fromFile)
				if err != nil {
					return err
				}
				if def, err = featureflag.ParseFlag(fromFile, key, data); err != nil {
					return err
				}
			} else {
				cur, err := c.Flag(cmd.Context(), f.env, key)
				if err != nil {
					if client.IsNotFound(err) {
						return fmt.Errorf("%w\ncreate it with -f FILE (its definition) or gantry flags apply -f", err)
					}
					return err
				}
				def, base = cur.Flag.Clone(), cur.Version
			}
			flags := cmd.Flags()
			switch {
			case flags.Changed("percentage") && def.Rollout == nil && variant == "":
				return fmt.Errorf("flag %s has no rollout: add --variant to name the variant the percentage gets", key)
			case flags.Changed("percentage") || flags.Changed("variant"):
				if def.Rollout == nil {
					def.Rollout = &featureflag.Rollout{}
				}
				if variant != "" {
					def.Rollout.Variant = variant
				}
				if flags.Changed("percentage") {
					def.Rollout.Percentage = pct
				}
			}
			if enable || disable {
				def.Disabled = disable
			}
			if defaultV != "" {
				def.DefaultVariant = defaultV
			}
			if errs := featureflag.Validate(def); len(errs) > 0 {
				return fmt.Errorf("flag %s would be invalid; nothing was changed:\n%w", key, errs)
			}
			res, err := c.SetFlag(cmd.Context(), f.env, def, base, reason)
			if err != nil {
				return err
			}
			return printChanges(cmd.OutOrStdout(), f.json(), res)
		},
	}
	f.add(cmd)
	cmd.Flags().Float64Var(&pct, "percentage", 0, "percentage (0-100) of targeting keys the rollout variant reaches")
	cmd.Flags().StringVar(&variant, "variant", "", "the variant the rollout serves (needed when the flag has no rollout yet)")
	cmd.Flags().BoolVar(&enable, "enable", false, "switch the flag on (undo --disable)")
	cmd.Flags().BoolVar(&disable, "disable", false, "the kill switch: serve the default variant to everyone, with reason DISABLED")
	cmd.Flags().StringVar(&defaultV, "default", "", "the default variant")
	cmd.Flags().StringVarP(&fromFile, "file", "f", "", "the flag's whole definition (YAML or JSON, as under flags: in a flag file)")
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded with the version and in the audit log")
	return cmd
}

func newFlagsApplyCmd() *cobra.Command {
	var (
		r      remote
		file   string
		prune  bool
		reason string
	)
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Apply a flag file (kind: Flags) to its environment: all flags or none",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return errors.New("-f is required: the flag file to apply")
			}
			data, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			parsed, err := featureflag.Parse(file, data) // the same checks the server makes, before connecting
			if err != nil {
				return err
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			res, err := c.ApplyFlags(cmd.Context(), parsed.Environment, api.ApplyFlagsRequest{Filename: file, Source: string(data), Prune: prune, Reason: reason})
			if err != nil {
				return err
			}
			return printChanges(cmd.OutOrStdout(), r.json(), res)
		},
	}
	r.addFlags(cmd, false)
	cmd.Flags().StringVarP(&file, "file", "f", "", "the flag file")
	cmd.Flags().BoolVar(&prune, "prune", false, "also delete the environment's flags the file does not list")
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded with every version stored")
	return cmd
}

func newFlagsHistoryCmd() *cobra.Command {
	var f flagCmd
	cmd := &cobra.Command{
		Use:   "history FLAG --env ENV",
		Short: "Every version of a flag: who changed what, when and why",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.connect()
			if err != nil {
				return err
			}
			vs, err := c.FlagHistory(cmd.Context(), f.env, args[0])
			if err != nil {
				return err
			}
			if f.json() {
				return printJSON(cmd.OutOrStdout(), vs)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VERSION\tTIME\tACTOR\tDEFINITION\tREASON")
			for _, v := range vs {
				def := "deleted"
				if v.Flag != nil {
					def = v.Flag.Summary()
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", v.Version, v.Time.Local().Format(time.DateTime), v.Actor, def, v.Reason)
			}
			return tw.Flush()
		},
	}
	f.add(cmd)
	return cmd
}

func newFlagsRevertCmd() *cobra.Command {
	var (
		f      flagCmd
		to     int64
		reason string
	)
	cmd := &cobra.Command{
		Use:   "revert FLAG --env ENV [--to-version N]",
		Short: "Store a flag as it was at an earlier version (default: the previous one)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to < 0 {
				return fmt.Errorf("--to-version %d: give a version ≥ 1, or leave it out for the previous one", to)
			}
			c, err := f.connect()
			if err != nil {
				return err
			}
			res, err := c.RevertFlag(cmd.Context(), f.env, args[0], to, reason)
			if err != nil {
				return err
			}
			return printChanges(cmd.OutOrStdout(), f.json(), res)
		},
	}
	f.add(cmd)
	cmd.Flags().Int64Var(&to, "to-version", 0, "the version to return to (see gantry flags history); 0: the previous one")
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded with the version and in the audit log")
	return cmd
}

func newFlagsDeleteCmd() *cobra.Command {
	var (
		f      flagCmd
		reason string
	)
	cmd := &cobra.Command{
		Use:   "delete FLAG --env ENV",
		Short: "Delete a flag (a new version: revert brings it back)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.connect()
			if err != nil {
				return err
			}
			res, err := c.DeleteFlag(cmd.Context(), f.env, args[0], reason)
			if err != nil {
				return err
			}
			return printChanges(cmd.OutOrStdout(), f.json(), res)
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded with the version and in the audit log")
	return cmd
}

// printChanges prints what a change stored, one line per flag.
func printChanges(w io.Writer, asJSON bool, res api.FlagChanges) error {
	if asJSON {
		return printJSON(w, res)
	}
	if len(res.Changes) == 0 {
		_, err := fmt.Fprintln(w, "no change: the flags are already so")
		return err
	}
	lines := make([]string, len(res.Changes))
	for i, ch := range res.Changes {
		lines[i] = ch.Describe()
	}
	_, err := fmt.Fprintln(w, strings.Join(lines, "\n"))
	return err
}
