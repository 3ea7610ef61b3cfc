// Command gantry is the progressive-delivery engine's one binary: the
// server, the CLI that talks to it, the demo, and the sample workload.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes, documented in the README.
const (
	exitOK          = 0
	exitError       = 1   // a command failed: bad input, unreachable server, --timeout, ...
	exitRolledBack  = 2   // deploy --wait: the rollout was rolled back or aborted
	exitFailed      = 3   // deploy --wait: the rollout failed and needs a person
	exitSuperseded  = 4   // deploy --wait: a newer deploy replaced the rollout
	exitDrillMissed = 5   // db drill: the restore missed its RTO or RPO target
	exitRefused     = 6   // deploy, promote, pipeline run: a gate refused (or, with --dry-run, would refuse)
	exitStageFailed = 7   // pipeline run --wait: a stage failed (smoke, perf, rollout rolled back, no approval)
	exitCancelled   = 8   // pipeline run --wait: the run was cancelled
	exitInterrupted = 130 // Ctrl-C (SIGINT) or SIGTERM while waiting: the server goes on
)

// codedError carries an exit code through cobra.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// errInterrupted is the cause of the command context's end on Ctrl-C or SIGTERM.
var errInterrupted = errors.New("interrupted")

// interrupted reports whether ctx ended because the user pressed Ctrl-C.
func interrupted(ctx context.Context) bool { return errors.Is(context.Cause(ctx), errInterrupted) }

// commands holds the constructors of the top-level commands; each command
// group's file adds its own in an init function.
var commands []func() *cobra.Command

func register(f func() *cobra.Command) { commands = append(commands, f) }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "gantry",
		Short:         "Progressive delivery: rolling, blue-green and canary rollouts with automatic rollback",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, f := range commands {
		root.AddCommand(f())
	}
	for _, c := range root.Commands() {
		groupsOnly(c)
	}
	return root
}

// groupsOnly makes every command below c that only holds subcommands
// (rollout, token, ...) print its help when run alone and refuse an
// unknown subcommand as "unknown command", whatever flags follow it.
func groupsOnly(c *cobra.Command) {
	if !c.HasSubCommands() {
		return
	}
	for _, sub := range c.Commands() {
		groupsOnly(sub)
	}
	if c.Run != nil || c.RunE != nil {
		return
	}
	c.DisableFlagParsing = true
	c.SuggestionsMinimumDistance = 2
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			return cmd.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf("; did you mean %s?", strings.Join(s, " or "))
		}
		return fmt.Errorf("%s\nRun '%s --help' for its commands", msg, cmd.CommandPath())
	}
}

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		cancel(errInterrupted)
		signal.Stop(sig) // a second Ctrl-C ends gantry at once
	}()
	err := newRootCmd().ExecuteContext(ctx)
	if err == nil {
		os.Exit(exitOK)
	}
	fmt.Fprintln(os.Stderr, "gantry:", err)
	var ce *codedError
	if errors.As(err, &ce) {
		os.Exit(ce.code)
	}
	os.Exit(exitError)
}
