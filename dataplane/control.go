package dataplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"
)

// Handler serves a Plane's control API, JSON over HTTP:
//
//	GET    /v1/state                    State
//	PUT    /v1/environments/{app}/{env} Environment → EnvStatus (409: ErrStale)
//	DELETE /v1/environments/{app}/{env}
//	GET    /v1/health                   Liveness (boot, requests in flight)
//	GET    /v1/counters[?app=&env=]     Counters (JSON, or version 2 when
//	                                    accepted: counterswire.go)
//	POST   /v1/listeners                the listener stream (watch.go)
//	POST   /v1/drain                    {"addr": "host:port"}, answered when idle
//	                                    ({"noWait": true}: 204 idle, 503 busy)
//
// maxDesiredState bounds one environment's desired state on the control
// channel (bytes): thousands of routes fit well within it.
const maxDesiredState = 8 << 20

// extra, when not nil, serves what the Plane does not (the upgrade).
func Handler(p *Plane, extra http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/state", func(w http.ResponseWriter, r *http.Request) {
		st, _ := p.State(r.Context())
		reply(w, http.StatusOK, st)
	})
	mux.HandleFunc("PUT /v1/environments/{app}/{env}", func(w http.ResponseWriter, r *http.Request) {
		var e Environment
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxDesiredState)).Decode(&e); err != nil {
			replyErr(w, http.StatusBadRequest, fmt.Errorf("desired state: %w", err))
			return
		}
		if e.App != r.PathValue("app") || e.Name != r.PathValue("env") {
			replyErr(w, http.StatusBadRequest, fmt.Errorf("desired state of %s/%s sent to %s", e.App, e.Name, r.URL.Path))
			return
		}
		st, err := p.Apply(r.Context(), e)
		switch {
		case errors.Is(err, ErrStale):
			replyErr(w, http.StatusConflict, err)
		case errors.Is(err, ErrBusy):
			replyErr(w, http.StatusServiceUnavailable, err)
		case err != nil:
			replyErr(w, http.StatusUnprocessableEntity, err)
		default:
			reply(w, http.StatusOK, st)
		}
	})
	mux.HandleFunc("DELETE /v1/environments/{app}/{env}", func(w http.ResponseWriter, r *http.Request) {
		_ = p.Remove(r.Context(), r.PathValue("app"), r.PathValue("env"))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) {
		h, _ := p.Check(r.Context())
		reply(w, http.StatusOK, h)
	})
	mux.HandleFunc("GET /v1/counters", func(w http.ResponseWriter, r *http.Request) {
		c, _ := p.Counters(r.Context(), r.FormValue("app"), r.FormValue("env"))
		if acceptsCountersV2(r.Header.Get("Accept")) {
			b, err := encodeCounters(c, r.Header.Get(CountersIndexHeader))
			if err != nil {
				replyErr(w, http.StatusInternalServerError, fmt.Errorf("counters: %w", err))
				return
			}
			w.Header().Set("Content-Type", CountersMediaType)
			_, _ = w.Write(b)
			return
		}
		reply(w, http.StatusOK, c)
	})
	mux.HandleFunc("POST /v1/listeners", listenersHandler(p))
	mux.HandleFunc("POST /v1/drain", func(w http.ResponseWriter, r *http.Request) {
		var q struct {
			Addr string
			// NoWait answers at once: 204 when idle, 503 when not.
			NoWait bool
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&q); err != nil || q.Addr == "" {
			replyErr(w, http.StatusBadRequest, fmt.Errorf("drain: want {\"addr\": \"host:port\"}"))
			return
		}
		ctx := r.Context()
		if q.NoWait {
			c, cancel := context.WithCancel(ctx)
			cancel()
			ctx = c
		}
		if err := p.Drain(ctx, q.Addr); err != nil {
			replyErr(w, http.StatusServiceUnavailable, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	if extra != nil {
		mux.Handle("/", extra)
	}
	return mux
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func replyErr(w http.ResponseWriter, code int, err error) {
	reply(w, code, map[string]string{"error": err.Error()})
}

// ListenControl binds the control socket at path with mode 0600, replacing
// a stale socket file left by a dead process. It refuses when a live data
// plane already answers there.
func ListenControl(path string) (*net.UnixListener, error) {
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s: a data plane already serves it; stop it or run `gantry proxy upgrade`", path)
	}
	_ = os.Remove(path)
	return listenUnix(path)
}

// listenUnix binds a Unix socket at path, readable and writable by its
// owner only (the mode is set before any client can connect: the umask
// covers the window between bind and chmod).
func listenUnix(path string) (*net.UnixListener, error) {
	old := syscall.Umask(0o177)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ln.SetUnlinkOnClose(false) // an upgraded process takes the path over
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return ln, nil
}

// sameUser reports whether the peer of a Unix connection runs as this
// process's user (or root): the socket's mode already keeps others out,
// this holds even if the mode is changed.
func sameUser(c net.Conn) error {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return nil
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var peer uint32
	var cerr error
	if err := raw.Control(func(fd uintptr) { peer, cerr = peerUID(int(fd)) }); err != nil {
		return err
	}
	if cerr != nil {
		return cerr
	}
	if uid := uint32(os.Getuid()); peer != uid && peer != 0 {
		return fmt.Errorf("control connection from uid %d refused: only uid %d may program this data plane", peer, uid)
	}
	return nil
}

// peerCheckedListener closes connections from other users.
type peerCheckedListener struct {
	net.Listener
	logf func(string, ...any)
}

func (l peerCheckedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if err := sameUser(c); err != nil {
			l.logf("%v", err)
			c.Close()
			continue
		}
		return c, nil
	}
}

// Serve answers the control API on ln until ctx ends.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, logf func(string, ...any)) error {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	err := srv.Serve(peerCheckedListener{ln, logf})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
