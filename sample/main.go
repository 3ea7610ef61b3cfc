package sample

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

// Main is the sample workload's command line: it parses args (without the
// program name), then serves until SIGTERM or SIGINT. It returns nil after a
// graceful stop and an error for bad flags or a faked crash.
func Main(args []string) error {
	cfg, err := parseArgs(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return Run(ctx, cfg)
}

// parseArgs reads the flags into a Config; the knobs embedded in --version
// apply first and knob flags given explicitly override them.
// printUsage prints the flags in the style of the gantry CLI's help.
func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, "Run the sample workload (for demos and tests)\n\nUsage:\n  gantry sample --port PORT [--version V[+knobs]] [flags]\n\nFlags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		name, help := flag.UnquoteUsage(f)
		line := "      --" + f.Name
		if name != "" {
			line += " " + name
		}
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
			help += fmt.Sprintf(" (default %q)", f.DefValue)
		}
		fmt.Fprintf(w, "%-32s %s\n", line, help)
	})
	fmt.Fprint(w, "  -h, --help                     help for sample\n")
}

func parseArgs(args []string, usage io.Writer) (Config, error) {
	fs := flag.NewFlagSet("gantry-sample", flag.ContinueOnError)
	fs.SetOutput(usage)
	port := fs.Int("port", 0, "port to listen on (required)")
	addr := fs.String("addr", "127.0.0.1", "host to listen on")
	version := fs.String("version", "v1", "version to report; knobs may follow a '+', as in v2+errors=0.05,latency=200ms")
	instance := fs.String("instance", os.Getenv("GANTRY_INSTANCE"), "instance name to report (default $GANTRY_INSTANCE, else the process id)")
	var given []knobFlag
	for _, kn := range knobList {
		fs.Var(&knobFlag{name: kn.name, given: &given}, kn.name, "knob: "+kn.form)
	}
	fs.Usage = func() { printUsage(usage, fs) }
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q; knobs are flags (--errors 0.05) or follow the version (--version v2+errors=0.05)", fs.Arg(0))
	}
	if *port <= 0 || *port > 65535 {
		return Config{}, errors.New("--port is required: a TCP port from 1 to 65535")
	}
	v, knobs, err := SplitVersion(*version)
	if err != nil {
		return Config{}, fmt.Errorf("--version: %w", err)
	}
	for _, g := range given {
		if err := knobs.Set(g.name, g.value); err != nil {
			return Config{}, fmt.Errorf("--%s: %w", g.name, err)
		}
	}
	if *instance == "" {
		*instance = "pid-" + strconv.Itoa(os.Getpid())
	}
	return Config{Addr: *addr, Port: *port, Version: v, Instance: *instance, Knobs: knobs}, nil
}

// knobFlag is a knob given as a flag; each use is appended to given so the
// knobs apply in command-line order after those in the version.
type knobFlag struct {
	name  string
	value string
	given *[]knobFlag
}

func (f *knobFlag) String() string { return f.value }

func (f *knobFlag) Set(v string) error {
	f.value = v
	*f.given = append(*f.given, knobFlag{name: f.name, value: v})
	return nil
}

// IsBoolFlag lets boolean knobs be given without a value (--db-down).
func (f *knobFlag) IsBoolFlag() bool {
	switch f.name {
	case "crash-at-start", "never-ready", "db-down":
		return true
	}
	return false
}
