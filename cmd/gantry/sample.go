package main

import (
	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/sample"
)

func init() { register(newSampleCmd) }

// newSampleCmd runs the sample workload, so one binary is enough for the demo.
func newSampleCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "sample --port PORT [--version V[+knobs]] [knob flags]",
		Short:              "Run the sample workload (for demos and tests)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return sample.Main(args)
		},
	}
}
