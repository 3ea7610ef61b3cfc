// Package server wires gantry's embedded default together: the SQLite
// store, the local backend, one proxy per app and environment, the rollout
// engine and the HTTP API. It owns no decisions; it starts and stops the
// parts together.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/backend/local"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
	"github.com/gantry-dev/gantry/store/sqlite"
	"github.com/gantry-dev/gantry/strategy"
)

// DefaultAPIAddr is where the API listens unless told otherwise.
const DefaultAPIAddr = "127.0.0.1:7070"

// Options configure a Server.
type Options struct {
	// DataDir holds the state database and instance logs; empty: ./.gantry.
	DataDir string
	// APIAddr is the API's listen address; empty: DefaultAPIAddr; port 0 picks one.
	APIAddr string
	// BaseDir resolves relative workload paths; empty: the current directory.
	BaseDir string
	// Interval is the engine's reconcile period; 0: the engine's default.
	Interval time.Duration
	// StopInstancesOnExit stops every instance when the server stops (the
	// demo). Otherwise instances keep running and the next server adopts them.
	StopInstancesOnExit bool
	// RestartBackoff is the first restart delay of a crashed instance; 0: the backend's default.
	RestartBackoff time.Duration
	// Backups schedules the daily backup of every app environment with a
	// database; the zero value backs up at 02:00 and keeps 30 days.
	Backups BackupSchedule
	// Version is gantry's version, reported by the API.
	Version string
	// Logf receives diagnostics; nil: silent.
	Logf func(format string, args ...any)
}

// Server is a running gantry server.
type Server struct {
	opts    Options
	store   *sqlite.Store
	backend *local.Backend
	router  *trafficRouter
	engine  *rollout.Engine
	// held wraps the backend for the engine (database rollbacks hold an
	// environment at zero); databases migrates and backs up app databases.
	held      *heldBackend
	databases *appDatabases
	api       *http.Server
	ln        net.Listener
}

// New opens the store, adopts instances left by an earlier server, opens
// the proxies of every applied app and binds the API. Run starts the work.
func New(ctx context.Context, opts Options) (s *Server, err error) {
	if opts.DataDir == "" {
		opts.DataDir = ".gantry"
	}
	if opts.APIAddr == "" {
		opts.APIAddr = DefaultAPIAddr
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	s = &Server{opts: opts}
	defer func() {
		if err != nil {
			s.closeParts()
		}
	}()
	if s.store, err = sqlite.Open(ctx, filepath.Join(opts.DataDir, "gantry.db")); err != nil {
		return nil, fmt.Errorf("open state store: %w", err)
	}
	var backend *local.Backend
	s.router = newTrafficRouter(func(app, env string) []rollout.Instance { return backend.Instances(app, env) }, opts.Logf)
	backend, err = local.New(local.Options{
		DataDir:        opts.DataDir,
		BaseDir:        opts.BaseDir,
		OnChange:       s.router.rebuild,
		Drain:          s.router.drain,
		Event:          s.recordEvent,
		RestartBackoff: opts.RestartBackoff,
	})
	if err != nil {
		return nil, fmt.Errorf("start local backend: %w", err)
	}
	s.backend = backend
	if err := backend.Recover(ctx, func(app, env string, n int) (rollout.Revision, error) {
		return s.store.GetRevision(ctx, app, env, n)
	}); err != nil {
		return nil, fmt.Errorf("adopt instances of an earlier server: %w", err)
	}
	apps, err := s.store.ListApps(ctx)
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	for _, a := range apps {
		if err := s.router.open(a.Spec); err != nil {
			return nil, err
		}
	}
	s.held = newHeldBackend(backend)
	s.databases = &appDatabases{dataDir: opts.DataDir, baseDir: opts.BaseDir, logf: opts.Logf}
	s.engine, err = rollout.New(rollout.Options{
		Store:    s.store,
		Backend:  s.held,
		Database: s.databases,
		Router:   s.router,
		Strategies: map[spec.StrategyType]rollout.Strategy{
			spec.RollingUpdate: strategy.Rolling{},
			spec.Canary:        strategy.Canary{},
			spec.BlueGreen:     strategy.BlueGreen{},
		},
		Metrics:    s.router,
		SmokeTests: &smokeTester{router: s.router, baseDir: opts.BaseDir, client: &http.Client{}},
		Interval:   opts.Interval,
		Logf:       opts.Logf,
	})
	if err != nil {
		return nil, err
	}
	if s.ln, err = net.Listen("tcp", opts.APIAddr); err != nil {
		return nil, fmt.Errorf("listen for the API on %s (--listen): %w", opts.APIAddr, err)
	}
	s.api = &http.Server{
		Handler: api.NewHandler(api.Options{
			Store:            s.store,
			Engine:           s.engine,
			Instances:        backend.Instances,
			Traffic:          s.router.traffic,
			LogPath:          backend.LogPath,
			Applied:          func(_ context.Context, a spec.App) error { return s.router.open(a) },
			DatabaseRollback: s.RollbackDatabase,
			Version:          opts.Version,
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	return s, nil
}

// APIURL is the base URL of the API, such as http://127.0.0.1:7070.
func (s *Server) APIURL() string { return "http://" + s.ln.Addr().String() }

// Engine returns the rollout engine (for in-process callers such as the demo).
func (s *Server) Engine() *rollout.Engine { return s.engine }

// Store returns the state store.
func (s *Server) Store() rollout.Store { return s.store }

// Instances lists an environment's instances.
func (s *Server) Instances(app, env string) []rollout.Instance { return s.backend.Instances(app, env) }

// Traffic returns an environment's proxy address and per-revision traffic.
func (s *Server) Traffic(app, env string) (string, []api.RevisionTraffic) {
	return s.router.traffic(app, env)
}

// ProxyAddr returns the address of an environment's proxy, "" if none.
func (s *Server) ProxyAddr(app, env string) string { return s.router.proxyAddr(app, env) }

// PreviewAddr returns the address of an environment's blue-green preview
// listener, "" if none.
func (s *Server) PreviewAddr(app, env string) string { return s.router.previewAddr(app, env) }

// Run serves the API and drives rollouts until ctx ends, then stops every
// part: the API, the engine, the proxies (letting requests finish) and,
// with StopInstancesOnExit, the instances.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := s.api.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("api: %w", err)
			cancel()
		}
	}()
	go func() {
		defer wg.Done()
		_ = s.engine.Run(ctx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.runBackups(ctx)
	}()
	<-ctx.Done()
	shutdownCtx, stop := context.WithTimeout(context.Background(), 60*time.Second)
	defer stop()
	_ = s.api.Shutdown(shutdownCtx)
	wg.Wait()
	var err error
	select {
	case err = <-errc:
	default:
	}
	if s.opts.StopInstancesOnExit {
		if serr := s.backend.Shutdown(shutdownCtx); serr != nil {
			err = errors.Join(err, fmt.Errorf("stop instances: %w", serr))
		}
	} else {
		s.backend.Detach()
	}
	s.router.close(shutdownCtx)
	return errors.Join(err, s.store.Close())
}

// closeParts releases what New opened when New fails.
func (s *Server) closeParts() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s.router != nil {
		s.router.close(ctx)
	}
	if s.backend != nil {
		s.backend.Detach()
	}
	if s.ln != nil {
		_ = s.ln.Close()
	}
	if s.store != nil {
		_ = s.store.Close()
	}
}

func (s *Server) recordEvent(e rollout.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.Actor == "" {
		e.Actor = "gantry"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.store.AppendEvent(ctx, e); err != nil {
		s.opts.Logf("record event %s: %v", e.Reason, err)
	}
}
