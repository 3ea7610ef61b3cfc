package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func init() { register(newApplyCmd) }

func newApplyCmd() *cobra.Command {
	var r remote
	var file string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "apply [-f FILE] [--dry-run]",
		Short: "Send an app's gantry.yaml to the server (validated there; nothing is deployed yet)",
		Long: `Send an app's gantry.yaml (default: ./gantry.yaml) to the server, which checks
it and opens the environments' proxies; a spec that fails either is refused
whole and nothing changes. What instances run takes effect with the next deploy.
The server also checks that it can run a local workload's command (a path
relative to its --base-dir, a name on its PATH) and warns with file:line.

With --dry-run, print what would change, field by field, and change nothing
(as gantry diff does).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			if dryRun {
				d, err := diffWithServer(cmd, c, file)
				if err != nil {
					return err
				}
				if r.json() {
					return printJSON(cmd.OutOrStdout(), d)
				}
				d.print(cmd.OutOrStdout())
				fmt.Fprintln(cmd.OutOrStdout(), "(dry run: nothing was applied)")
				return nil
			}
			src, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("read spec: %w (pass the file with -f)", err)
			}
			res, err := c.Apply(cmd.Context(), file, src)
			if err != nil {
				return err
			}
			for _, w := range res.Warnings { // such as a command the server cannot run
				fmt.Fprintln(cmd.ErrOrStderr(), "warning: "+w.Error())
			}
			if r.json() {
				return printJSON(cmd.OutOrStdout(), res)
			}
			verb := "configured"
			if res.Created {
				verb = "created"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "app %s %s (environments: %s)\n", res.App, verb, strings.Join(res.Environments, ", "))
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "gantry.yaml", "gantry.yaml to apply")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would change, field by field, and change nothing")
	r.addFlags(cmd, false)
	return cmd
}
