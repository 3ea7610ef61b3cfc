package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/spec"
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
			if app, err := spec.Parse(file, src); err == nil {
				for _, w := range commandWarnings(file, app, ".") {
					fmt.Fprintln(cmd.ErrOrStderr(), w)
				}
			}
			res, err := c.Apply(cmd.Context(), file, src)
			if err != nil {
				return err
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
