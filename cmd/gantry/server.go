package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/metrics/promsource"
	"github.com/gantry-dev/gantry/server"
)

func init() { register(newServerCmd) }

// newLogger returns the server's structured logger: log/slog with a text
// (key=value) or JSON handler on w.
func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}

func newServerCmd() *cobra.Command {
	var opts server.Options
	var database, passwordFile, logFormat, analysisPrometheus string
	var kube *kubeServerFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the gantry server: API, rollout engine, proxies and the local backend",
		Long: `Run the gantry server on the embedded defaults: state in SQLite under --data,
instances as local processes, traffic through gantry's own proxy.

Instances keep running when the server stops (Ctrl-C, or a crash); the next
server started with the same --data adopts them and carries on with every
rollout from its stored state.

With --database postgres://…, two or more servers can share one PostgreSQL
database: one leads (runs the engine, the instances and the proxies), the
others serve reads, forward writes to it, and take over within seconds when
it dies. See docs/ha.md.

The server logs to stderr through log/slog, key=value text or JSON lines
(--log-format json), one line per fact, never one per attempt: server
started and stopped, leading or following, rollout started, rollout ended
(with its outcome), instance adopted; diagnostics besides. What happened to
a rollout step by step is in gantry events.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			logger, err := newLogger(os.Stderr, logFormat)
			if err != nil {
				return err
			}
			opts.Logger = logger
			opts.Version = gantryVersion()
			if opts.StateDatabase, err = server.ParseStateDatabase(database, opts.DataDir, passwordFile); err != nil {
				return err
			}
			if analysisPrometheus != "" {
				src, err := promsource.New(promsource.Options{URL: analysisPrometheus, Logf: opts.Logf})
				if err != nil {
					return fmt.Errorf("--analysis-prometheus: %w", err)
				}
				opts.MetricSource = src
			}
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			opts.ProxyCommand = []string{exe, "proxy"}
			opts.Kubernetes = kube.options(cmd)
			s, err := server.New(ctx, opts)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "gantry server %s: API on %s, data in %s, state in %s, %s\n",
				opts.Version, s.APIURL(), opts.DataDir, opts.StateDatabase.Redacted(), s.Role())
			logger.Info("server started", "version", opts.Version, "api", s.APIURL(), "data", opts.DataDir,
				"state", opts.StateDatabase.Redacted(), "role", fmt.Sprint(s.Role()))
			err = s.Run(ctx)
			attrs := []any{"instances", map[bool]string{true: "stopped", false: "left running for the next server to adopt"}[opts.StopInstancesOnExit]}
			if err != nil {
				attrs = append(attrs, "error", err.Error())
			}
			logger.Info("server stopped", attrs...)
			return err
		},
	}
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "server log format on stderr: text (key=value) or json (one object per line)")
	cmd.Flags().StringVar(&opts.DataDir, "data", ".gantry", "data directory: state database and instance logs")
	cmd.Flags().StringVar(&opts.APIAddr, "listen", server.DefaultAPIAddr, "API listen address")
	cmd.Flags().StringVar(&opts.BaseDir, "base-dir", "", "directory relative workload paths are resolved from (default: current directory)")
	cmd.Flags().StringVar(&database, "database", "", "state database: postgres://user@host:5432/gantry (servers sharing it elect a leader; docs/ha.md) or sqlite:///path/gantry.db (default: SQLite at <data>/gantry.db)")
	cmd.Flags().StringVar(&passwordFile, "database-password-file", "", "file holding the PostgreSQL password (default: from the URL, PGPASSWORD or ~/.pgpass)")
	cmd.Flags().StringVar(&opts.AdvertiseURL, "advertise", "", "API URL other gantry servers forward writes to while this one leads (default: http://<--listen address>)")
	cmd.Flags().StringVar(&opts.DashboardKeyFile, "dashboard-key-file", "", "file holding the key that seals dashboard sessions, at least 32 bytes (made when missing); give servers that share a database the same one so a browser stays signed in when another leads (default: <data>/dashboard.key)")
	cmd.Flags().BoolVar(&opts.Backups.Drill, "backup-drill", false, "after each scheduled backup, restore it into a scratch database and judge it against the RTO/RPO targets (Warning event DrillTargetMissed when missed)")
	cmd.Flags().StringArrayVar(&opts.AlertRules, "alert-rules", nil, "Prometheus rule file evaluated over gantry's own metrics (repeatable; docs/monitoring.md); see alerts with gantry alerts list")
	cmd.Flags().StringVar(&analysisPrometheus, "analysis-prometheus", "", "Prometheus base URL the canary analysis reads its per-revision counts from, instead of gantry's proxy (series labelled app, env and revision; docs/monitoring.md)")
	cmd.Flags().StringVar(&opts.Notifications, "notifications", "", "notifications file: Slack, PagerDuty, signed webhook and Alertmanager receivers of alerts and rollout events (docs/monitoring.md)")
	cmd.Flags().DurationVar(&opts.AlertInterval, "alert-interval", 0, "how often the alert rules sample gantry's metrics and are evaluated (default 15s)")
	cmd.Flags().IntVar(&opts.AlertHistoryMaxSeries, "alert-history-max-series", 0, "cap on the series the alerting history keeps of those the rules and checks read; beyond it samples are dropped, with a warning and gantry_alerting_history_dropped_samples_total (default 20000)")
	kube = kubeFlags(cmd)
	cmd.Flags().BoolVar(&opts.NoProxyStandby, "no-proxy-standby", false, "keep no warm standby beside the data plane (gantry proxy --standby takes over at once when gantry proxy dies; it costs one idle process, about 50 MB resident)")
	cmd.Flags().BoolVar(&opts.StopInstancesOnExit, "stop-instances-on-exit", false, "stop every instance when the server stops, instead of leaving them for the next server to adopt")
	return cmd
}
