package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/metrics/export"
)

func init() { register(newMonitoringCmd) }

func newMonitoringCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "monitoring",
		Short: "Monitoring files for a team's own Prometheus and Grafana",
	}
	var env, out string
	exp := &cobra.Command{
		Use:   "export APP [--env ENV] [--out DIR]",
		Short: "Write a Prometheus rule file (recording rules per version, the plan's alerts) and a Grafana dashboard for an app",
		Long: `Write two files into --out (default: the current directory):

  gantry-APP[-ENV].rules.yml       Prometheus rule file: recording rules per version (request and 5xx
                                   rates, 5xx share, p50/p95/p99, in flight) and the alerts HighErrorRate,
                                   HighResponseTime and HighErrorShare. Load it with rule_files in
                                   prometheus.yml, or with gantry server --alert-rules.
  gantry-APP[-ENV].dashboard.json  Grafana dashboard: request rate, 5xx share, p50/p95/p99 and in-flight
                                   requests per version, with rollouts as annotations. Import it in
                                   Grafana and pick the Prometheus data source that scrapes gantry.

Without --env the files cover every environment of the app (the dashboard has an env variable).
Nothing is read from a server.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t := export.Target{App: args[0], Env: env}
			rules, err := export.Rules(t)
			if err != nil {
				return err
			}
			dash, err := export.Dashboard(t)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			for _, f := range []struct {
				name string
				b    []byte
			}{{t.Name() + ".rules.yml", rules}, {t.Name() + ".dashboard.json", dash}} {
				path := filepath.Join(out, f.name)
				if err := os.WriteFile(path, f.b, 0o644); err != nil {
					return fmt.Errorf("--out: %w", err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), "wrote", path)
			}
			return nil
		},
	}
	exp.Flags().StringVar(&env, "env", "", "one environment of the app (default: every environment)")
	exp.Flags().StringVar(&out, "out", ".", "directory to write the files into (created if missing)")
	cmd.AddCommand(exp)
	return cmd
}
