package dataplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"
)

// Holder keeps a copy of every listening socket of the data plane serving
// a control socket, with the state they serve, read from its listener
// stream. While the Holder runs, a crash of the data plane's process
// refuses no connection: the sockets stay open, the kernel queues new
// connections in their backlog, and the process started next with
// Inheritance accepts them. It is safe for concurrent use.
type Holder struct {
	socket string
	logf   func(string, ...any)
	// gone receives a value when a stream ends without a last frame (the
	// process died); buffered, never blocks the Holder.
	gone chan struct{}

	mu    sync.Mutex
	h     handoff
	files map[string]*os.File
}

// holderRedial is how often a Holder dials the control socket again after
// its stream ended.
const holderRedial = 10 * time.Millisecond

// NewHolder returns a Holder of the data plane serving socket; Run starts it.
func NewHolder(socket string, logf func(string, ...any)) *Holder {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &Holder{socket: socket, logf: logf, gone: make(chan struct{}, 1), files: map[string]*os.File{}}
}

// Gone receives a value each time the stream of a data plane process ends
// without that process having stopped on purpose: it died.
func (h *Holder) Gone() <-chan struct{} { return h.gone }

// Run follows the data plane's listener stream until ctx ends, dialing
// again when a stream ends; the copies are closed when it returns.
func (h *Holder) Run(ctx context.Context) {
	defer h.replace(handoff{}, nil)
	for ctx.Err() == nil {
		err := h.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errDied) {
			select {
			case h.gone <- struct{}{}:
			default:
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(holderRedial):
		}
	}
}

// errDied: the stream ended without its last frame.
var errDied = errors.New("the data plane's stream ended: its process is gone")

// follow reads one process's stream until it ends.
func (h *Holder) follow(ctx context.Context) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", h.socket)
	if err != nil {
		return err
	}
	uc := c.(*net.UnixConn)
	defer uc.Close()
	stop := context.AfterFunc(ctx, func() { uc.Close() })
	defer stop()
	if _, err := io.WriteString(uc, "POST /v1/listeners HTTP/1.1\r\nHost: gantry-proxy\r\nContent-Length: 0\r\n\r\n"); err != nil {
		return err
	}
	for frames := 0; ; frames++ {
		hf, fds, err := readFrame(uc)
		if err != nil {
			if frames == 0 {
				return fmt.Errorf("listener stream of %s: %w", h.socket, err)
			}
			return errDied
		}
		files := make(map[string]*os.File, len(fds))
		for i, fd := range fds {
			files[hf.Keys[i]] = os.NewFile(uintptr(fd), hf.Keys[i])
		}
		h.replace(hf, files)
		if hf.Stopping {
			return nil
		}
	}
}

// replace makes files the copies held, closing the others.
func (h *Holder) replace(hf handoff, files map[string]*os.File) {
	h.mu.Lock()
	old := h.files
	h.h, h.files = hf, files
	if h.files == nil {
		h.files = map[string]*os.File{}
	}
	h.mu.Unlock()
	for _, f := range old {
		f.Close()
	}
}

// Inheritance is what a process started after a crash takes over: the
// state the dead one served and its listening sockets.
type Inheritance struct {
	State State
	// Keys name Files ("app/env", "app/env preview"), in order.
	Keys  []string
	Files []*os.File
}

// Held returns a copy of what the Holder holds, for Start; the caller
// closes its Files. Boot is the run whose stream the Holder read last.
func (h *Holder) Held() (Inheritance, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	in := Inheritance{State: h.h.State}
	keys := make([]string, 0, len(h.files))
	for k := range h.files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fd, err := fdOf(h.files[k])
		if err == nil {
			fd, err = syscall.Dup(fd)
		}
		if err != nil {
			in.Close()
			return Inheritance{}, fmt.Errorf("hold listener %s: %w", k, err)
		}
		syscall.CloseOnExec(fd)
		in.Keys, in.Files = append(in.Keys, k), append(in.Files, os.NewFile(uintptr(fd), k))
	}
	return in, nil
}

// Close closes in's files.
func (in Inheritance) Close() { closeFiles(in.Files) }

// Queued is the number of connections waiting in the held sockets' accept
// queues: clients that connected while no process accepted.
func (in Inheritance) Queued() int {
	n := 0
	for _, f := range in.Files {
		if fd, err := fdOf(f); err == nil {
			n += acceptQueue(fd)
		}
	}
	return n
}
