package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func init() { register(newLogsCmd) }

func newLogsCmd() *cobra.Command {
	var r remote
	var tail int64
	cmd := &cobra.Command{
		Use:   "logs APP [INSTANCE] [--env ENV]",
		Short: "Print an instance's log (every instance's when none is named)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, env, err := r.target(ctx, args[0])
			if err != nil {
				return err
			}
			if len(args) == 2 {
				return c.Logs(ctx, args[0], env, args[1], tail, cmd.OutOrStdout())
			}
			st, err := c.Status(ctx, args[0], env)
			if err != nil {
				return err
			}
			n := 0
			for _, rs := range st.Revisions {
				for _, in := range rs.Instances {
					fmt.Fprintf(cmd.OutOrStdout(), "==> %s (revision %d, %s) <==\n", in.ID, in.Revision, in.Version)
					if err := c.Logs(ctx, args[0], env, in.ID, tail, cmd.OutOrStdout()); err != nil {
						fmt.Fprintf(os.Stderr, "gantry: %s: %v\n", in.ID, err)
					}
					n++
				}
			}
			if n == 0 {
				return fmt.Errorf("%s has no instances in %s", args[0], env)
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&tail, "tail-bytes", 16<<10, "print at most this many bytes from the end of each log")
	r.addFlags(cmd, true)
	return cmd
}
