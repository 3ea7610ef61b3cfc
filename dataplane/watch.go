package dataplane

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"
)

// The listener stream (POST /v1/listeners) lets a peer keep a copy of
// every listening socket of the data plane: the data plane answers on the
// raw connection with a frame (the handoff format: a 4-byte big-endian
// length, the handoff JSON, one byte carrying the sockets' descriptors)
// at once and after every change of its state. A peer holding the copies
// keeps the sockets open when the data plane's process dies: the kernel
// queues new connections in their backlog instead of refusing them, and
// the process started next accepts them (StartOptions.Inherit). The end
// of the stream tells the peer at once that the process is gone. A data
// plane that stops on purpose sends a last frame with no listener first.

// snapshotLocked returns the state, the listeners' keys and a copy of each
// listening socket; callers hold p.mu and close the files.
func (p *Plane) snapshotLocked() (handoff, []*os.File, error) {
	h := handoff{State: State{Boot: p.boot}}
	var files []*os.File
	for _, e := range p.sortedLocked() {
		h.State.Environments = append(h.State.Environments, e.state)
		k := envKey{e.state.App, e.state.Name}.String()
		for _, l := range []struct {
			key string
			px  interface{ File() (*os.File, error) }
			ok  bool
		}{{k, e.proxy, true}, {k + " preview", e.preview, e.preview != nil}} {
			if !l.ok {
				continue
			}
			f, err := l.px.File()
			if err != nil {
				closeFiles(files)
				return handoff{}, nil, err
			}
			h.Keys, files = append(h.Keys, l.key), append(files, f)
		}
	}
	return h, files, nil
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// changedLocked wakes every listener stream; callers hold p.mu.
func (p *Plane) changedLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// sendFrame writes one frame: h, then files' descriptors.
func sendFrame(uc *net.UnixConn, h handoff, files []*os.File) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if err := writeFrame(uc, b); err != nil {
		return err
	}
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			if fds[i], err = fdOf(f); err != nil {
				return err
			}
		}
		oob = syscall.UnixRights(fds...)
	}
	_, _, err = uc.WriteMsgUnix([]byte{1}, oob, nil)
	return err
}

// streamWrite bounds the write of one frame to a stream's peer.
const streamWrite = 5 * time.Second

// streamListeners serves POST /v1/listeners on the hijacked connection uc
// until the peer leaves or the Plane closes (then with a last, empty frame).
func (p *Plane) streamListeners(uc *net.UnixConn) error {
	p.mu.Lock()
	if !p.closed {
		p.streams.Add(1) // under p.mu: Close waits only for streams begun before it
		defer p.streams.Done()
	}
	p.mu.Unlock()
	gone := make(chan struct{})
	go func() {
		var b [1]byte
		_, _ = uc.Read(b[:]) // the peer never writes: any return is its end
		close(gone)
	}()
	for {
		p.mu.Lock()
		closed, changed := p.closed, p.changed
		h, files, err := handoff{State: State{Boot: p.boot}, Stopping: true}, []*os.File(nil), error(nil)
		if !closed {
			h, files, err = p.snapshotLocked()
		}
		p.mu.Unlock()
		if err != nil {
			return err
		}
		uc.SetWriteDeadline(time.Now().Add(streamWrite))
		err = sendFrame(uc, h, files)
		closeFiles(files)
		if err != nil || closed {
			return err
		}
		select {
		case <-gone:
			return nil
		case <-changed:
		}
	}
}

// listenersHandler serves POST /v1/listeners.
func listenersHandler(p *Plane) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		uc, ok := takeUnixConn(w, "listeners")
		if !ok {
			return
		}
		defer uc.Close()
		if err := p.streamListeners(uc); err != nil {
			p.logf("listener stream: %v", err)
		}
	}
}

// waitStreams waits for wg, at most d.
func waitStreams(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// fdOf returns f's descriptor, valid while f is open, without the side
// effect of os.File.Fd: that makes the descriptor blocking, and a listening
// socket's mode is shared by every process holding it (a data plane whose
// socket turned blocking could no longer close it).
func fdOf(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if err := rc.Control(func(u uintptr) { fd = int(u) }); err != nil {
		return -1, err
	}
	return fd, nil
}

// takeUnixConn takes the control socket's connection over from net/http
// for a request (what names it in the error) that continues as a raw
// stream with descriptors: false when it cannot (the reply, if any, is
// sent). The caller closes the connection.
func takeUnixConn(w http.ResponseWriter, what string) (*net.UnixConn, bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		replyErr(w, http.StatusInternalServerError, fmt.Errorf("%s: connection cannot be taken over", what))
		return nil, false
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return nil, false
	}
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		conn.Close()
		return nil, false
	}
	return uc, true
}
