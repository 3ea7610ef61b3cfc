// Package server wires gantry's embedded default together: the SQLite
// store, the local backend, one proxy per app and environment, the rollout
// engine and the HTTP API. It owns no decisions; it starts and stops the
// parts together.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/audit"
	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/dashboard"
	"github.com/gantry-dev/gantry/featureflag"
	"github.com/gantry-dev/gantry/leader"
	"github.com/gantry-dev/gantry/metrics/appmetrics"
	"github.com/gantry-dev/gantry/notify"
	"github.com/gantry-dev/gantry/rollout"
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
	// DashboardKeyFile holds the key that seals dashboard sessions (at
	// least 32 bytes; made when missing). Servers sharing a database should
	// share it, so a browser stays signed in when another server leads.
	// Empty: dashboard.key in DataDir.
	DashboardKeyFile string
	// Interval is the engine's reconcile period; 0: the engine's default.
	Interval time.Duration
	// StopInstancesOnExit stops every instance when the server stops (the
	// demo). Otherwise instances keep running and the next server adopts them.
	StopInstancesOnExit bool
	// RestartBackoff is the first restart delay of a crashed instance; 0: the backend's default.
	RestartBackoff time.Duration
	// Backends are the backends an environment's spec may name
	// (environments[].backend; unset means spec.BackendLocal). Nil: the
	// local backend alone, which runs instances as processes.
	Backends backend.Registry
	// Kubernetes, when set (and Backends is nil), adds the kubernetes
	// backend to the registry. Nil: none.
	Kubernetes *KubernetesOptions
	// Backups schedules the daily backup of every app environment with a
	// database; the zero value backs up at 02:00 and keeps 30 days.
	Backups BackupSchedule
	// AuthLimit bounds failed API authentications per source address (429
	// beyond it) and sets the period of their aggregate audit records; the
	// zero AuthLimit: api.DefaultAuthFailures per api.DefaultAuthWindow.
	AuthLimit api.AuthLimit
	// StateDatabase is where the server keeps its state (see
	// ParseStateDatabase); zero: SQLite at <DataDir>/gantry.db. Servers
	// sharing a PostgreSQL database elect one leader (docs/ha.md).
	StateDatabase StateDatabase
	// AdvertiseURL is the API URL followers pass writes to while this
	// server leads; empty: http://<the API's listen address>.
	AdvertiseURL string
	// LeaderPoll is how often a follower tries to take the lead; 0: 500ms.
	LeaderPoll time.Duration
	// Version is gantry's version, reported by the API.
	Version string
	// Logf receives diagnostics; nil: Logger's Info.
	Logf func(format string, args ...any)
	// AlertRules are Prometheus rule files evaluated over the server's own
	// metrics (docs/monitoring.md); none: no alerting. A bad file stops New
	// with every problem's file and line.
	AlertRules []string
	// AlertInterval is how often the metrics are sampled and the rules
	// evaluated; 0: alerting.DefaultInterval (15s).
	AlertInterval time.Duration
	// AlertHistoryMaxSeries caps the series the alerting history keeps
	// (only those the rules and the checks of rollouts in progress read);
	// 0: alerting.DefaultMaxSeries (20,000).
	AlertHistoryMaxSeries int
	// AlertClock stamps the alert rules' evaluations; nil: the wall clock.
	// Tests set it to run minutes of rule time in seconds.
	AlertClock func() time.Time
	// Logger receives the server's story, once per fact: rollouts started
	// and ended, instances adopted, leadership taken or followed; nil: none.
	Logger *slog.Logger
	// MetricSource is what the analysis reads of each revision, such as
	// an external Prometheus (metrics/promsource); nil: the proxy's own
	// counters (which also count a canary's baseline group apart).
	MetricSource rollout.MetricSource
	// Notifications is a notifications file: Slack, PagerDuty, webhook and
	// Alertmanager receivers of alerts and rollout events
	// (docs/monitoring.md); empty: none.
	Notifications string
	// ProxyCommand runs the data plane (every environment's listeners,
	// routes and counters) as its own process with this command and the
	// data directory's flag, such as {"/usr/bin/gantry", "proxy"}: the
	// server adopts a running one, restarts it when it dies, and leaves it
	// serving when the server stops or crashes (unless
	// StopInstancesOnExit). Nil: the data plane runs inside the server and
	// stops with it (tests, benchmarks).
	ProxyCommand []string
	// NoProxyStandby keeps no warm standby beside the data plane process
	// (`gantry proxy --standby`, which takes over at once when the data
	// plane dies); false, the default: one runs whenever ProxyCommand is set.
	NoProxyStandby bool
	// Token is an API token secret (from auth.NewSecret) the server
	// registers as an admin token on every environment, named "local", for
	// in-process clients such as the demo; empty: none.
	Token string
}

// Server is a running gantry server.
type Server struct {
	opts Options
	// kube is the connection to the Kubernetes cluster; nil without
	// Options.Kubernetes.
	kube    *kubeConnection
	store   stateStore
	elector leader.Elector
	self    leader.Info
	// tokens authenticate API requests; audit records them and the
	// engine's decisions; events is the store the engine and the backends
	// write to: the state store, auditing every decision, guarded (write
	// failures become conditions, unwritten events wait and are retried).
	tokens auth.TokenStore
	audit  *audit.Log
	events *rollout.GuardedStore
	// flags keeps the feature flags; metrics serves /metrics.
	flags   *featureflag.Catalog
	metrics http.Handler
	// dash serves the web dashboard in front of the API.
	dash *dashboard.Dashboard
	// alerts evaluates the alert rules; nil without rule files.
	alerts *alerts
	// checks measures the user-defined checks of spec.analysis.checks.
	checks *queryChecks
	// notifier sends alerts and rollout events; nil without a notifications file.
	notifier *notify.Notifier
	// rollouts counts analysis verdicts and times rollout steps for /metrics.
	rollouts *rolloutMetrics
	// appMetrics scrapes the instances' own metrics (spec.metrics.scrape).
	appMetrics *appmetrics.Scraper

	// mu guards the leader's parts below, set when this server starts
	// leading (in New, or in Run after following); nil until then.
	mu      sync.Mutex
	backend *envBackends
	routes  *routes
	engine  *rollout.Engine
	// held wraps the backend for the engine (database rollbacks hold an
	// environment at zero); databases migrates and backs up app databases.
	held      *heldBackend
	databases *appDatabases
	// pipes are the leader's gates and pipeline runs; nil while following.
	pipes   *pipes
	api     *http.Server
	apiSwap handlerSwap // the API behind the gate: a follower's, then the leader's
	ln      net.Listener
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
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Logf == nil {
		log := opts.Logger
		opts.Logf = func(format string, args ...any) { log.Info(fmt.Sprintf(format, args...)) }
	}
	var kc *kubeConnection
	if opts.Kubernetes != nil {
		kc = &kubeConnection{opts: opts.Kubernetes}
	}
	if opts.Backends == nil {
		opts.Backends = defaultBackends(opts, kc)
	}
	// The notifications and rule files first: a bad file stops the server
	// before it binds or creates anything.
	notifications, err := loadNotifications(opts)
	if err != nil {
		return nil, err
	}
	rules, err := loadAlerts(opts, knownReceiver(notifications))
	if err != nil {
		return nil, err
	}
	// The API's port next: a server that cannot listen creates nothing
	// (no data directory, no state database, no admin token).
	ln, err := net.Listen("tcp", opts.APIAddr)
	if err != nil {
		return nil, fmt.Errorf("listen for the API on %s (--listen): %w; nothing was created", opts.APIAddr, err)
	}
	if err := secureDataDir(opts.DataDir, opts.Logf); err != nil {
		ln.Close()
		return nil, err
	}
	s = &Server{opts: opts, ln: ln, kube: kc}
	built := s // s is nil once an error is returned
	defer func() {
		if err != nil {
			built.closeParts()
		}
	}()
	if s.opts.StateDatabase.Kind == 0 {
		s.opts.StateDatabase = StateDatabase{Kind: SQLite, Path: filepath.Join(opts.DataDir, "gantry.db")}
	}
	opts = s.opts
	if opts.StateDatabase.Kind == SQLite {
		if err := createPrivate(opts.StateDatabase.Path, opts.Logf); err != nil {
			return nil, err
		}
	}
	if s.store, err = openStore(ctx, opts.StateDatabase); err != nil {
		return nil, err
	}
	if s.tokens, s.audit, err = s.openAuth(ctx, s.store); err != nil {
		return nil, err
	}
	s.rollouts = newRolloutMetrics()
	var events rollout.Store = measuredEvents{logEvents(audit.Events(s.store, s.audit), opts.Logger), s.rollouts}
	if notifications != nil {
		s.notifier = notify.New(notify.Options{Config: notifications, Logf: opts.Logf})
		events = notifyingStore{events, s.notifier}
	}
	s.events = rollout.GuardStore(events, rollout.GuardOptions{Logf: opts.Logf})
	flagStore, ok := s.store.(featureflag.Store)
	if !ok {
		return nil, fmt.Errorf("the state store %T keeps no feature flags: use gantry's SQLite or PostgreSQL store", s.store)
	}
	s.flags = featureflag.NewCatalog(featureflag.CatalogOptions{Store: flagStore})
	s.appMetrics = s.newAppMetrics()
	reg := newMetrics(s.flags, runtimeCollector{s: s}, append(s.rollouts.collectors(), storeCollector{s.events}, monitoringCollector{s}, hostCollector{}, appMetricsCollector{s})...)
	s.metrics = reg
	if s.alerts, err = s.newAlerts(rules, reg); err != nil {
		return nil, err
	}
	if s.checks, err = s.newQueryChecks(reg); err != nil {
		return nil, err
	}
	s.self = leader.Info{ID: serverID(s.ln), APIURL: opts.AdvertiseURL}
	if s.self.APIURL == "" {
		s.self.APIURL = s.APIURL()
	}
	if s.elector, err = newElector(ctx, opts, s.self); err != nil {
		return nil, err
	}
	if s.dash, err = s.newDashboard(); err != nil {
		return nil, err
	}
	s.apiSwap.set(s.apiHandler(leaderParts{}))
	start := time.Now()
	leads, err := s.elector.TryLead(ctx)
	if err != nil {
		return nil, err
	}
	if leads {
		if err := s.lead(ctx); err != nil {
			return nil, err
		}
		s.logLeading(ctx, start)
	}
	s.api = &http.Server{
		Handler:           newGate(s.self, s.elector, func() bool { return s.leading().engine != nil }, &s.apiSwap, opts.Logf),
		ReadHeaderTimeout: 10 * time.Second,
	}
	s.api.RegisterOnShutdown(s.dash.Close) // event streams end, browsers reconnect
	return s, nil
}

// APIURL is the base URL of the API, such as http://127.0.0.1:7070.
func (s *Server) APIURL() string { return "http://" + s.ln.Addr().String() }

// Engine returns the rollout engine (for in-process callers such as the
// demo); nil while this server follows.
func (s *Server) Engine() *rollout.Engine { return s.leading().engine }

// Store returns the state store.
func (s *Server) Store() rollout.Store { return s.store }

// Instances lists an environment's instances; none while this server follows.
func (s *Server) Instances(app, env string) []rollout.Instance {
	if b := s.leading().backend; b != nil {
		return b.Instances(app, env)
	}
	return nil
}

// Traffic returns an environment's proxy address and per-revision
// traffic; none while this server follows.
func (s *Server) Traffic(app, env string) (string, []api.RevisionTraffic) {
	if r := s.leading().routes; r != nil {
		return r.traffic(app, env)
	}
	return "", nil
}

// ProxyAddr returns the address of an environment's proxy, "" if none
// (or while this server follows).
func (s *Server) ProxyAddr(app, env string) string {
	if r := s.leading().routes; r != nil {
		return r.router.Addr(app, env)
	}
	return ""
}

// PreviewAddr returns the address of an environment's blue-green preview
// listener, "" if none (or while this server follows).
func (s *Server) PreviewAddr(app, env string) string {
	if r := s.leading().routes; r != nil {
		return r.router.PreviewAddr(app, env)
	}
	return ""
}

// Run serves the API and drives rollouts until ctx ends, then stops every
// part: the API, the engine, the proxies (letting requests finish) and,
// with StopInstancesOnExit, the instances. A follower serves the API and
// waits to lead before it drives anything. A leader that loses its lock
// stops at once, leaves the instances running for the next leader and
// returns ErrLeadershipLost.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := s.api.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("api: %w", err)
			cancel()
		}
	}()
	if err := s.awaitLead(ctx); err != nil {
		errc <- err
		cancel()
	}
	if p := s.leading(); p.engine != nil && ctx.Err() == nil {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_ = p.engine.Run(ctx)
		}()
		go func() {
			defer wg.Done()
			s.runBackups(ctx)
		}()
		if s.notifier != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.notifier.Run(ctx)
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runQueryChecks(ctx)
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runAppMetrics(ctx)
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runUsersRead(ctx)
		}()
		if s.alerts != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.alerts.ev.Run(ctx)
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runPipelines(ctx, s.pipelinesOf())
		}()
	}
	lost := false
	select {
	case <-ctx.Done():
	case <-s.elector.Lost():
		lost = true
		errc <- ErrLeadershipLost
		cancel()
	}
	shutdownCtx, stop := context.WithTimeout(context.Background(), 60*time.Second)
	defer stop()
	_ = s.api.Shutdown(shutdownCtx)
	wg.Wait()
	close(errc)
	var err error
	for e := range errc {
		err = errors.Join(err, e)
	}
	p := s.leading()
	switch {
	case p.backend == nil:
	case s.opts.StopInstancesOnExit && !lost:
		if serr := p.backend.Shutdown(shutdownCtx); serr != nil {
			err = errors.Join(err, fmt.Errorf("stop instances: %w", serr))
		}
	default:
		p.backend.Release()
	}
	if p.routes != nil {
		if cerr := p.routes.router.Close(shutdownCtx); cerr != nil {
			s.opts.Logf("%v", cerr)
		}
	}
	return errors.Join(err, s.elector.Close(), s.store.Close())
}

// closeParts releases what New opened when New fails.
func (s *Server) closeParts() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s.routes != nil {
		_ = s.routes.router.Close(ctx)
	}
	if s.backend != nil {
		s.backend.Release()
	}
	if s.ln != nil {
		_ = s.ln.Close()
	}
	if s.elector != nil {
		_ = s.elector.Close()
	}
	if s.events != nil {
		s.events.Close()
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
	if _, err := s.events.AppendEvent(ctx, e); err != nil {
		s.opts.Logf("record event %s: %v", e.Reason, err)
	}
}
