package dataplane

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"
)

// The handover of listeners from a running data plane (old) to a new
// process (new), over the control socket:
//
//  1. new dials the socket and sends POST /v1/handoff; old stops taking
//     desired states (503 until the handover ends) and answers on the raw
//     connection: a 4-byte big-endian length, the handoff JSON (State and
//     the listeners' keys), then one byte carrying the listening sockets'
//     file descriptors (SCM_RIGHTS), in the keys' order.
//  2. new serves those sockets with the same tables (both processes
//     accept for a moment), binds its control socket beside the old one
//     and renames it over it, writes the record file, and sends "ok\n".
//  3. old closes its copies of the listeners (the sockets stay open in
//     new: no connection is refused), finishes its requests in flight and
//     exits. Without "ok" (new died), old takes desired states again.

// handoff is what the old process sends before the descriptors.
type handoff struct {
	State State
	// Keys name the listeners whose descriptors follow, in order:
	// "app/env" for a main listener, "app/env preview" for a preview one.
	Keys []string
	// Stopping marks the last frame of a listener stream: the data plane
	// stops on purpose (its sockets close; holders let them go).
	Stopping bool
	// Users are the main listeners' users windows, in an upgrade's
	// handoff only (users.go).
	Users []envUsers `json:",omitempty"`
}

// handoffTimeout bounds each step of a handover.
const handoffTimeout = 30 * time.Second

// upgrader is the old side of a handover.
type upgrader struct {
	plane  *Plane
	logf   func(string, ...any)
	handed chan struct{}
	once   sync.Once
}

func (u *upgrader) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/handoff", func(w http.ResponseWriter, r *http.Request) {
		uc, ok := takeUnixConn(w, "handoff")
		if !ok {
			return
		}
		defer uc.Close()
		if err := u.handOver(uc); err != nil {
			u.logf("handover to a new data plane process: %v; serving on", err)
		}
	})
	return mux
}

// handOver sends the state and listeners to the new process and waits for
// its "ok".
func (u *upgrader) handOver(uc *net.UnixConn) error {
	p := u.plane
	p.mu.Lock()
	if p.frozen {
		p.mu.Unlock()
		return errors.New("another handover is under way")
	}
	p.frozen = true
	h, files, err := p.snapshotLocked()
	if err != nil {
		p.frozen = false
		p.mu.Unlock()
		return err
	}
	p.mu.Unlock()
	defer closeFiles(files)
	h.Users = p.userWindows()
	unfreeze := func() { p.mu.Lock(); p.frozen = false; p.mu.Unlock() }

	uc.SetDeadline(time.Now().Add(handoffTimeout))
	err = sendFrame(uc, h, files)
	if err != nil {
		unfreeze()
		return err
	}
	line, err := bufio.NewReader(uc).ReadString('\n')
	if err != nil || line != "ok\n" {
		unfreeze()
		return fmt.Errorf("the new process did not confirm (%q, %v)", line, err)
	}
	u.once.Do(func() { close(u.handed) })
	return nil
}

// finish closes the old process's listeners after a handover, letting its
// requests in flight finish.
func (u *upgrader) finish() error {
	ctx, cancel := context.WithTimeout(context.Background(), handoffTimeout)
	defer cancel()
	return u.plane.close(ctx, true)
}

func writeFrame(w io.Writer, b []byte) error {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

// takeOver is the new side of a handover: it receives the state and the
// listeners of the data plane serving sock, and returns a Plane serving
// them (with a new boot ID: counters start again) and the function that
// confirms the handover once the new control socket is in place.
func takeOver(ctx context.Context, sock, binHash string, logf func(string, ...any)) (*Plane, func() error, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return nil, nil, fmt.Errorf("take over the data plane at %s: %w", sock, err)
	}
	uc := c.(*net.UnixConn)
	fail := func(err error) (*Plane, func() error, error) {
		uc.Close()
		return nil, nil, fmt.Errorf("take over the data plane at %s: %w", sock, err)
	}
	uc.SetDeadline(time.Now().Add(handoffTimeout))
	if _, err := io.WriteString(uc, "POST /v1/handoff HTTP/1.1\r\nHost: gantry-proxy\r\nContent-Length: 0\r\n\r\n"); err != nil {
		return fail(err)
	}
	h, fds, err := readFrame(uc)
	if err != nil {
		return fail(fmt.Errorf("read the handoff (is the running data plane older than handovers?): %w", err))
	}
	inherited, err := listeners(h.Keys, fds)
	if err != nil {
		return fail(err)
	}
	plane, err := restore(ctx, h, inherited, binHash, logf)
	if err != nil {
		return fail(err)
	}
	logf("took over %d environment(s) and %d listener(s) from data plane %s (pid %d)",
		len(h.State.Environments), len(fds), h.State.Boot.ID, h.State.Boot.PID)
	confirm := func() error {
		defer uc.Close()
		_, err := io.WriteString(uc, "ok\n")
		return err
	}
	return plane, confirm, nil
}

// readFrame reads one frame: the handoff and the descriptors after it.
func readFrame(uc *net.UnixConn) (handoff, []int, error) {
	var h handoff
	var n [4]byte
	if _, err := io.ReadFull(uc, n[:]); err != nil {
		return h, nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(n[:]))
	if _, err := io.ReadFull(uc, b); err != nil {
		return h, nil, err
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return h, nil, fmt.Errorf("decode the handoff: %w", err)
	}
	oob := make([]byte, syscall.CmsgSpace(4*max(len(h.Keys), 1)))
	one := make([]byte, 1)
	_, oobn, _, _, err := uc.ReadMsgUnix(one, oob)
	if err != nil {
		return h, nil, err
	}
	fds, err := parseRights(oob[:oobn])
	if err != nil || len(fds) != len(h.Keys) {
		for _, fd := range fds {
			syscall.Close(fd)
		}
		return h, nil, fmt.Errorf("got %d listeners for %d keys: %v", len(fds), len(h.Keys), err)
	}
	return h, fds, nil
}

// listeners turns received descriptors into listeners by key; on error
// every descriptor is closed.
func listeners(keys []string, fds []int) (map[string]net.Listener, error) {
	out := map[string]net.Listener{}
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), keys[i])
		ln, err := net.FileListener(f)
		f.Close()
		if err != nil {
			for _, l := range out {
				l.Close()
			}
			for _, fd := range fds[i+1:] {
				syscall.Close(fd)
			}
			return nil, fmt.Errorf("listener %s: %w", keys[i], err)
		}
		out[keys[i]] = ln
	}
	return out, nil
}

// restore returns a Plane serving h's state on the inherited listeners.
func restore(ctx context.Context, h handoff, inherited map[string]net.Listener, binHash string, logf func(string, ...any)) (*Plane, error) {
	plane := New(Options{Logf: logf, Binary: binHash, Inherited: inherited})
	for _, es := range h.State.Environments {
		if _, err := plane.Apply(ctx, es.Environment); err != nil {
			_ = plane.Close(context.Background())
			return nil, err
		}
	}
	plane.carryUsers(h.Users)
	return plane, nil
}

// parseRights returns the descriptors of SCM_RIGHTS messages in oob.
func parseRights(oob []byte) ([]int, error) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for _, m := range msgs {
		r, err := syscall.ParseUnixRights(&m)
		if err != nil {
			return fds, err
		}
		fds = append(fds, r...)
	}
	return fds, nil
}
