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
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Send an app's gantry.yaml to the server (validated there; nothing is deployed yet)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return fmt.Errorf("no spec file: pass -f gantry.yaml")
			}
			src, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("read spec: %w", err)
			}
			c, err := r.client()
			if err != nil {
				return err
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
	cmd.Flags().StringVarP(&file, "file", "f", "", "gantry.yaml to apply")
	r.addFlags(cmd, false)
	return cmd
}
