// Command gantry is the progressive-delivery engine's one binary: the
// server, the CLI that talks to it, the demo, and the sample workload.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes, documented in the README.
const (
	exitOK          = 0
	exitError       = 1 // a command failed: bad input, unreachable server, ...
	exitRolledBack  = 2 // deploy --wait: the rollout was rolled back or aborted
	exitFailed      = 3 // deploy --wait: the rollout failed and needs a person
	exitSuperseded  = 4 // deploy --wait: a newer deploy replaced the rollout
	exitDrillMissed = 5 // db drill: the restore missed its RTO or RPO target
)

// codedError carries an exit code through cobra.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

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
	return root
}

func main() {
	err := newRootCmd().Execute()
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
