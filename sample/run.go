package sample

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

// Config is one run of the sample workload.
type Config struct {
	// Addr is the host to listen on. Empty: 127.0.0.1.
	Addr string
	// Port is the TCP port to listen on; required unless Listener is set.
	Port int
	// Listener, when set, is served instead of listening on Addr:Port; Run
	// closes it.
	Listener net.Listener
	// Version is reported by every endpoint, without knobs (see SplitVersion).
	Version string
	// Instance names this copy in responses. Empty: "pid-<pid>".
	Instance string
	// Knobs select the failures to fake.
	Knobs Knobs
	// Log receives one line per start and stop. Nil: os.Stdout.
	Log io.Writer
	// ShutdownTimeout bounds how long a graceful stop waits for requests in
	// flight. Zero: 30s.
	ShutdownTimeout time.Duration
}

// ErrCrash is returned (wrapped) by Run when a knob fakes a crash.
var ErrCrash = errors.New("faked crash")

// Run serves until ctx is done, then stops gracefully: it stops accepting,
// lets requests in flight finish and returns nil. It returns an error
// wrapping ErrCrash when a crash knob fires, and any listen error.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Log == nil {
		cfg.Log = os.Stdout
	}
	if cfg.Instance == "" {
		cfg.Instance = "pid-" + strconv.Itoa(os.Getpid())
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1"
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if cfg.Knobs.CrashAtStart {
		fmt.Fprintf(cfg.Log, "gantry-sample %s: crashing at start (crash-at-start)\n", cfg.Version)
		return fmt.Errorf("crash-at-start: %w", ErrCrash)
	}
	ln := cfg.Listener
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", net.JoinHostPort(cfg.Addr, strconv.Itoa(cfg.Port)))
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	s, err := newServer(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	defer s.close()
	srv := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}

	bg, stopBg := context.WithCancel(context.Background())
	defer stopBg()
	if cfg.Knobs.MemGrowth > 0 {
		go growMemory(bg, cfg.Knobs.MemGrowth)
	}
	if cfg.Knobs.CPUBurn > 0 {
		go burnCPU(bg, cfg.Knobs.CPUBurn)
	}
	var crash <-chan time.Time
	if cfg.Knobs.CrashAfter > 0 {
		t := time.NewTimer(cfg.Knobs.CrashAfter)
		defer t.Stop()
		crash = t.C
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(cfg.Log, "gantry-sample %s started on %s as %s knobs=%q\n", cfg.Version, ln.Addr(), cfg.Instance, cfg.Knobs.String())

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-crash:
		fmt.Fprintf(cfg.Log, "gantry-sample %s crashing after %s (crash-after)\n", cfg.Version, cfg.Knobs.CrashAfter)
		srv.Close()
		return fmt.Errorf("crash-after=%s: %w", cfg.Knobs.CrashAfter, ErrCrash)
	case <-ctx.Done():
	}
	s.stopping.Store(true)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if err != nil {
		srv.Close()
		err = fmt.Errorf("graceful stop: %w", err)
	}
	fmt.Fprintf(cfg.Log, "gantry-sample %s stopped\n", cfg.Version)
	return err
}
