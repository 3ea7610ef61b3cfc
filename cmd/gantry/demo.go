package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/demo"
)

func init() { register(newDemoCmd) }

func newDemoCmd() *cobra.Command {
	var opts demo.Options
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the guided demo: a rolling update under traffic, then a bad version rolled back automatically",
		Long: `Start gantry on its embedded defaults in a temporary directory, deploy the
bundled sample service with 3 instances behind gantry's proxy, send steady
traffic through the proxy, roll out a good version, then a version that never
becomes ready, which gantry rolls back by itself. It needs only loopback,
picks free ports, and stops everything it started (Ctrl-C too).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			opts.Out = cmd.OutOrStdout()
			_, err := demo.Run(ctx, opts)
			if err != nil && ctx.Err() != nil {
				return fmt.Errorf("demo interrupted; everything it started has been stopped")
			}
			return err
		},
	}
	cmd.Flags().IntVar(&opts.Rate, "rate", 400, "requests per second sent through the proxy")
	return cmd
}
