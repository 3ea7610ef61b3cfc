package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/dataplane"
)

func init() { register(newProxyCmd) }

func newProxyCmd() *cobra.Command {
	var dataDir, logFormat string
	var takeover, inherit, standby bool
	var procs int
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Run gantry's data plane: every environment's listeners, routes and counters",
		Long: `Run gantry's data plane: the process that holds every environment's
listeners, routing tables and per-revision counters, and nothing else.
gantry server starts it (and adopts a running one), programs it over the
control socket <data>/proxy.sock (mode 0600, same user only) and leaves it
running when it stops or crashes: traffic keeps flowing while the server
restarts, upgrades or fails over.

You rarely run it by hand; gantry proxy upgrade replaces a running one with
this binary without refusing or dropping a connection.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			logger, err := newLogger(os.Stderr, logFormat)
			if err != nil {
				return err
			}
			if procs < 0 {
				return fmt.Errorf("--procs %d: want 0 (Go's default: GOMAXPROCS, else the cores) or a number of processors", procs)
			}
			if procs > 0 {
				runtime.GOMAXPROCS(procs)
			}
			return dataplane.Run(ctx, dataplane.RunOptions{
				DataDir: dataDir, Takeover: takeover, Inherit: inherit, Standby: standby,
				Logf: func(format string, args ...any) {
					logger.Info(fmt.Sprintf(format, args...), slog.Int("pid", os.Getpid()))
				},
			})
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", ".gantry", "the gantry server's data directory: control socket proxy.sock and record proxy.pid")
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "log format on stderr: text (key=value) or json (one object per line)")
	cmd.Flags().IntVar(&procs, "procs", 0, "processors (GOMAXPROCS) the data plane's scheduler uses; 0: Go's default (the GOMAXPROCS environment variable, else the cores or the cgroup's CPU limit); see bench/README.md for what fewer cost and save")
	cmd.Flags().BoolVar(&takeover, "takeover", false, "take the listeners and tables of the data plane running for --data (what gantry proxy upgrade starts)")
	cmd.Flags().BoolVar(&inherit, "inherit", false, "serve the state on standard input (JSON) on the listening sockets from descriptor 3 on: what gantry server starts after a crash, with the sockets it kept open")
	cmd.Flags().BoolVar(&standby, "standby", false, "wait as a warm standby: hold the listening sockets and tables of the data plane running for --data, accept nothing, and take over at once when it dies (gantry server keeps one running; a second machine-local copy is how you run two)")
	cmd.AddCommand(newProxyUpgradeCmd())
	return cmd
}

func newProxyUpgradeCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "upgrade",
		Short: "Replace the running data plane with this binary, without dropping a connection",
		Long: `Start this binary as the data plane for --data and hand it the running
one's listening sockets and tables over the control socket. The new process
accepts from then on; the old one finishes its requests in flight and exits.
No connection is refused or reset. Counters start again in the new process
(the rollout engine sees its new boot ID and does not take it as a drop).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			client := dataplane.NewClient(filepath.Join(dataDir, dataplane.SocketFile))
			old, err := client.State(cmd.Context())
			if err != nil {
				return fmt.Errorf("no data plane answers for --data %s (%w); gantry server starts one", dataDir, err)
			}
			b, _, err := dataplane.Start(cmd.Context(), dataplane.Command{exe, "proxy"}, dataDir, dataplane.StartOptions{Takeover: true})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "data plane upgraded: pid %d (boot %s) took over %d environment(s) from pid %d (boot %s)\n",
				b.PID, b.ID, len(old.Environments), old.Boot.PID, old.Boot.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", ".gantry", "the gantry server's data directory")
	return cmd
}
