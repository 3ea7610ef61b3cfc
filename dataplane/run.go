package dataplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"
)

// RunOptions configure Run.
type RunOptions struct {
	// DataDir holds the control socket and the record file. Required.
	DataDir string
	// Takeover takes the listeners and tables of the data plane serving
	// DataDir's socket (an upgrade): it keeps serving until the handover
	// is done and then exits. False: start empty; a live data plane on
	// the socket is an error.
	Takeover bool
	// Inherit reads an Inheritance (what Start passes): the state as JSON
	// on standard input, the listening sockets from descriptor 3 on.
	Inherit bool
	// Standby waits as a standby (standby.go): it holds the listening
	// sockets and tables of the data plane serving DataDir's socket and
	// takes over when that process dies; until then it accepts nothing.
	Standby bool
	// Logf receives diagnostics; nil: silent.
	Logf func(format string, args ...any)
}

// dataDirPoll is how often a running data plane checks that its data
// directory still exists: a removed directory means nothing can program
// it any more (the installation is gone), and it exits.
const dataDirPoll = 2 * time.Second

// Run is `gantry proxy`: it serves the control socket in opts.DataDir and
// the environments programmed through it until ctx ends (then it closes
// every listener, letting requests in flight finish, and removes its
// files), or until a newer process takes its listeners over (then it
// finishes its requests in flight and returns, leaving the files to it).
func Run(ctx context.Context, opts RunOptions) error {
	if opts.DataDir == "" {
		return errors.New("gantry proxy: --data is required")
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	sock := filepath.Join(opts.DataDir, SocketFile)
	binary := SelfID()
	var plane *Plane
	confirm := func() error { return nil }
	switch {
	case opts.Takeover:
		var err error
		if plane, confirm, err = takeOver(ctx, sock, binary, opts.Logf); err != nil {
			return err
		}
	case opts.Inherit:
		var err error
		if plane, err = inherit(ctx, os.Stdin, binary, opts.Logf); err != nil {
			return err
		}
	case opts.Standby:
		var err error
		if plane, err = standby(ctx, opts.DataDir, binary, opts.Logf); plane == nil {
			return err // stopped before any takeover
		}
	default:
		plane = New(Options{Logf: opts.Logf, Binary: binary})
	}
	if us, err := takeUsers(opts.DataDir); err != nil {
		opts.Logf("%v", err)
	} else {
		plane.carryUsers(us)
	}
	ln, err := listenNext(sock, opts.Takeover || opts.Standby)
	if err != nil {
		_ = plane.Close(context.Background())
		return err
	}
	if err := WriteRecord(opts.DataDir, Record{PID: os.Getpid(), BootID: plane.Boot().ID, Binary: binary}); err != nil {
		ln.Close()
		_ = plane.Close(context.Background())
		return err
	}
	if err := confirm(); err != nil {
		opts.Logf("confirm the handover: %v", err)
	}
	opts.Logf("data plane %s (pid %d) serving %s", plane.Boot().ID, os.Getpid(), sock)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	handed := make(chan struct{})
	up := &upgrader{plane: plane, logf: opts.Logf, handed: handed}
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, Handler(plane, up.handler()), opts.Logf) }()
	go watchDataDir(ctx, opts.DataDir, cancel, opts.Logf)

	select {
	case <-ctx.Done():
	case <-handed:
		// A newer process serves the socket and the listeners: finish what
		// is in flight here and leave.
		opts.Logf("listeners handed over; finishing requests in flight")
		cancel()
		<-served
		return up.finish()
	}
	err = <-served
	r, rerr := ReadRecord(opts.DataDir)
	owner := rerr == nil && r.PID == os.Getpid()
	if owner { // the successor started in this directory carries the users
		if werr := writeUsers(opts.DataDir, plane.userWindows()); werr != nil {
			opts.Logf("%v", werr)
		}
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer ccancel()
	cerr := plane.Close(cctx)
	if owner {
		_ = os.Remove(filepath.Join(opts.DataDir, RecordFile))
		_ = os.Remove(sock)
	}
	return errors.Join(err, cerr)
}

// listenNext binds the control socket: in a takeover at a temporary path
// renamed over the old one (so clients reach the new process from then
// on), otherwise at sock itself.
func listenNext(sock string, takeover bool) (net.Listener, error) {
	if !takeover {
		return ListenControl(sock)
	}
	tmp := fmt.Sprintf("%s.%d", sock, os.Getpid())
	_ = os.Remove(tmp)
	ln, err := listenUnix(tmp)
	if err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, sock); err != nil {
		ln.Close()
		return nil, fmt.Errorf("take over the control socket: %w", err)
	}
	return ln, nil
}

// watchDataDir calls stop when dir disappears.
func watchDataDir(ctx context.Context, dir string, stop func(), logf func(string, ...any)) {
	t := time.NewTicker(dataDirPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			logf("data directory %s was removed: nothing can program this data plane any more; stopping", dir)
			stop()
			return
		}
	}
}

// inherit returns a Plane serving the state read from r (JSON) on the
// listening sockets at descriptors 3, 4... in its keys' order.
func inherit(ctx context.Context, r io.Reader, binary string, logf func(string, ...any)) (*Plane, error) {
	var h handoff
	if err := json.NewDecoder(r).Decode(&h); err != nil {
		return nil, fmt.Errorf("gantry proxy --inherit: read the state on standard input: %w", err)
	}
	fds := make([]int, len(h.Keys))
	for i := range fds {
		fds[i] = 3 + i
	}
	inherited, err := listeners(h.Keys, fds)
	if err != nil {
		return nil, fmt.Errorf("gantry proxy --inherit: %w", err)
	}
	plane, err := restore(ctx, h, inherited, binary, logf)
	if err != nil {
		return nil, fmt.Errorf("gantry proxy --inherit: %w", err)
	}
	logf("serving %d environment(s) of data plane %s (pid %d) on its %d listener(s)",
		len(h.State.Environments), h.State.Boot.ID, h.State.Boot.PID, len(fds))
	return plane, nil
}
