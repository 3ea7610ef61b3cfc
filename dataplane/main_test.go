package dataplane

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// proxyEnv makes the test binary act as `gantry proxy` (its flags: --data,
// --takeover, --inherit, --standby), so tests run the data plane as real
// processes without building gantry.
const proxyEnv = "GANTRY_DATAPLANE_TEST_PROXY"

func TestMain(m *testing.M) {
	if os.Getenv(proxyEnv) == "1" {
		os.Exit(runProxy(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func runProxy(args []string) int {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	var opts RunOptions
	fs.StringVar(&opts.DataDir, "data", "", "")
	fs.BoolVar(&opts.Takeover, "takeover", false, "")
	fs.BoolVar(&opts.Inherit, "inherit", false, "")
	fs.BoolVar(&opts.Standby, "standby", false, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	opts.Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := Run(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// proxyCommand returns the command that runs this test binary as a data
// plane process; the processes it starts are killed when the test ends.
func proxyCommand(t *testing.T) Command {
	t.Helper()
	t.Setenv(proxyEnv, "1")
	return Command{os.Args[0]}
}
