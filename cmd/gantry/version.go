package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func init() { register(newVersionCmd) }

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

// gantryVersion returns the build's version, falling back to the module's.
func gantryVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

func newVersionCmd() *cobra.Command {
	var r remote
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print gantry's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := r.checkOutput(); err != nil {
				return err
			}
			if r.json() {
				return printJSON(cmd.OutOrStdout(), map[string]string{"version": gantryVersion()})
			}
			fmt.Fprintln(cmd.OutOrStdout(), "gantry", gantryVersion())
			return nil
		},
	}
	cmd.Flags().StringVarP(&r.output, "output", "o", "", "output format: json, or empty for text")
	return cmd
}
