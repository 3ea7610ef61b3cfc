package dataplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// A standby (`gantry proxy --standby`) is a second data plane process,
// started and idle, that follows the active one's listener stream (the
// same stream the server's Holder reads): it holds a copy of every
// listening socket and the tables they serve, updated at every change, and
// accepts nothing. When the stream ends without its last frame (the active
// process died), the standby serves those tables on those sockets at once,
// takes the control socket over (renaming its own over it) and is the
// active data plane from then on; a supervising server starts a new
// standby. It does not accept while the active one lives, so the
// per-revision counters stay in one process (see docs/architecture.md).
// A standby that sees the active one stop on purpose (its last frame)
// or hand over to an upgraded process keeps following whoever serves the
// control socket next.

// StandbyFile is a standby's control socket in the data directory (mode
// 0600): it answers GET /v1/health with Liveness.Standby set.
const StandbyFile = "proxy-standby.sock"

// StandbyState is what a standby holds.
type StandbyState struct {
	// Following is the boot ID of the active data plane whose sockets and
	// tables it holds; empty before its first frame.
	Following string
	// Listeners is how many listening sockets it holds.
	Listeners int
}

// Succession is how a standby became the active data plane.
type Succession struct {
	// PID and Boot name the data plane that died.
	PID  int
	Boot string
	// SeenAt is when the standby saw the dead one's listener stream end
	// (the kernel closes a process's sockets as it exits: within
	// microseconds of the death); ServingAt is when it served the dead
	// one's tables on its sockets.
	SeenAt, ServingAt time.Time
	// Listeners is how many listening sockets it took over; Queued how
	// many connections waited in their accept queues when it did.
	Listeners, Queued int
}

// deathWait bounds how long a standby waits, after the stream ended, for
// the active process to be gone; standbyPoll is how often it looks.
const (
	deathWait   = 2 * time.Second
	standbyPoll = time.Millisecond
)

// standby runs a standby for dataDir until it takes over (then it returns
// the Plane serving the dead one's state) or ctx ends (nil, nil).
func standby(ctx context.Context, dataDir, binary string, logf func(string, ...any)) (*Plane, error) {
	sln, err := ListenControl(filepath.Join(dataDir, StandbyFile))
	if err != nil {
		return nil, fmt.Errorf("gantry proxy --standby: %w", err)
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	boot := Boot{ID: hex.EncodeToString(id[:]), StartedAt: time.Now(), PID: os.Getpid(), Binary: binary}
	holder := NewHolder(filepath.Join(dataDir, SocketFile), logf)
	hctx, stopHolder := context.WithCancel(ctx)
	held := make(chan struct{})
	go func() { defer close(held); holder.Run(hctx) }()
	wctx, stopWatch := context.WithCancel(ctx)
	go watchDataDir(wctx, dataDir, stopWatch, logf)
	sctx, stopServe := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- Serve(sctx, sln, standbyHandler(boot, holder), logf) }()
	leave := func() {
		stopWatch()
		stopHolder()
		stopServe()
		<-served
		<-held
		_ = os.Remove(filepath.Join(dataDir, StandbyFile))
	}
	logf("standby data plane %s (pid %d) following %s", boot.ID, boot.PID, holder.socket)
	for {
		select {
		case <-wctx.Done(): // stopped, or the data directory was removed
			leave()
			return nil, nil
		case <-holder.Gone():
		}
		seen := time.Now()
		in, err := holder.Held()
		if err != nil {
			logf("standby: %v", err)
			continue
		}
		dead := in.State.Boot
		if !waitDead(ctx, dead.PID, deathWait) {
			in.Close()
			logf("standby: the listener stream of data plane %s ended but pid %d lives; following again", dead.ID, dead.PID)
			continue
		}
		queued := in.Queued()
		plane, err := serveInherited(ctx, in, binary, logf)
		in.Close()
		if err != nil {
			logf("standby: take over from data plane %s (pid %d): %v; following again", dead.ID, dead.PID, err)
			continue
		}
		plane.boot.Succeeded = &Succession{PID: dead.PID, Boot: dead.ID, SeenAt: seen, ServingAt: time.Now(),
			Listeners: len(in.Keys), Queued: queued}
		leave()
		logf("standby took over from data plane %s (pid %d) %v after its stream ended: %d environment(s), %d listener(s)",
			dead.ID, dead.PID, plane.boot.Succeeded.ServingAt.Sub(seen).Round(time.Microsecond), len(in.State.Environments), len(in.Keys))
		return plane, nil
	}
}

// standbyHandler answers a standby's health checks.
func standbyHandler(boot Boot, holder *Holder) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) {
		holder.mu.Lock()
		st := &StandbyState{Following: holder.h.State.Boot.ID, Listeners: len(holder.files)}
		holder.mu.Unlock()
		reply(w, http.StatusOK, Liveness{Boot: boot, Standby: st})
	})
	return mux
}

// serveInherited returns a Plane serving in's state on in's sockets.
func serveInherited(ctx context.Context, in Inheritance, binary string, logf func(string, ...any)) (*Plane, error) {
	inherited := map[string]net.Listener{}
	for i, f := range in.Files {
		ln, err := net.FileListener(f)
		if err != nil {
			for _, l := range inherited {
				l.Close()
			}
			return nil, fmt.Errorf("listener %s: %w", in.Keys[i], err)
		}
		inherited[in.Keys[i]] = ln
	}
	return restore(ctx, handoff{State: in.State, Keys: in.Keys}, inherited, binary, logf)
}

// waitDead reports whether process pid is gone (or a zombie) within d.
func waitDead(ctx context.Context, pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if pid <= 0 || !Alive(pid) || zombie(pid) {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(standbyPoll)
	}
}
