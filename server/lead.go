package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/audit"
	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/leader"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
	"github.com/gantry-dev/gantry/strategy"
)

// ErrLeadershipLost: the server led and lost its lock on the database. It
// stopped acting and left the instances running for the next leader;
// restarted (as by a supervisor), it follows.
var ErrLeadershipLost = errors.New("leadership lost: another gantry server may lead now; restart this one to follow")

// leaderParts are what only the leader runs: the backends, the router and
// the engine. All nil while this server follows.
type leaderParts struct {
	backend *envBackends
	routes  *routes
	engine  *rollout.Engine
}

// leading returns the leader's parts, nil while this server follows.
func (s *Server) leading() leaderParts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return leaderParts{s.backend, s.routes, s.engine}
}

// Role reports whether this server leads (its engine runs) or follows.
func (s *Server) Role() leader.Role {
	if s.leading().engine != nil {
		return leader.Leader
	}
	return leader.Follower
}

// lead starts what only the leader runs: the registered backends, which
// adopt the instances an earlier server (or the last leader) left running,
// the routes of every applied app, and the engine. Run starts the engine's
// loop.
func (s *Server) lead(ctx context.Context) (err error) {
	opts := s.opts
	var backends *envBackends
	router, err := s.newRouter(ctx)
	if err != nil {
		return err
	}
	if s.kube != nil {
		router = newEnvRouters(router, s.kube, s.recordEvent)
	}
	seed, err := s.usersSeed(ctx)
	if err != nil {
		_ = router.Close(ctx)
		return err
	}
	routes := &routes{
		router:    router,
		instances: func(app, env string) []rollout.Instance { return backends.Instances(app, env) },
		describe:  strategy.Describe,
		userSeed:  seed,
	}
	defer func() {
		if err != nil {
			cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = router.Close(cctx)
			if backends != nil {
				backends.Release()
			}
		}
	}()
	backends, err = startBackends(opts.Backends, backend.Options{
		DataDir:  opts.DataDir,
		BaseDir:  opts.BaseDir,
		OnChange: routes.changed,
		Drain:    router.Drain,
		Event:    s.recordEvent,
	})
	if err != nil {
		return err
	}
	if err := backends.Recover(ctx, func(app, env string, n int) (rollout.Revision, error) {
		return s.store.GetRevision(ctx, app, env, n)
	}); err != nil {
		return fmt.Errorf("adopt instances of an earlier server: %w", err)
	}
	apps, err := s.store.ListApps(ctx)
	if err != nil {
		return fmt.Errorf("list apps: %w", err)
	}
	for _, a := range apps {
		if err := backends.assign(a.Spec); err != nil {
			// Stored before this server's backends changed: its rollouts
			// fail with this error until the spec is applied again.
			opts.Logf("app %s: %v", a.Name, err)
		}
		if err := routes.open(a.Spec); err != nil {
			// One app's router failing its checks (its CRDs removed, a
			// permission taken away) does not keep the others from
			// being led: that environment waits, told by a Warning.
			s.routerRefused(a.Name, err)
		}
	}
	if s.audit != nil {
		// A server killed between storing a decision's event and auditing
		// it left a gap; close it before the engine decides anything new.
		if n, err := audit.CatchUp(ctx, s.store, s.audit); err != nil {
			opts.Logf("audit catch-up: %v", err)
		} else if n > 0 {
			opts.Logf("audit: recorded %d decision(s) an earlier server stored but did not audit", n)
		}
	}
	held := newHeldBackend(backends)
	databases := &appDatabases{dataDir: opts.DataDir, baseDir: opts.BaseDir, logf: opts.Logf}
	engine, err := rollout.New(rollout.Options{
		Store:      s.events,
		Backend:    held,
		Database:   databases,
		Router:     router,
		Strategies: strategy.All(),
		Metrics:    s.metricSource(router),
		SmokeTests: &smokeTester{router: router, baseDir: opts.BaseDir, client: &http.Client{}},
		Flags:      flagSetter{s.flags},
		Interval:   opts.Interval,
		OnVerdict:  s.rollouts.verdict,
		Logf:       opts.Logf,
		// The analysis' evidence goes to the state store itself (events
		// go through the audit wrapper, which keeps no evidence).
		AnalysisStates: analysisStates(s.store),
	})
	if err != nil {
		return err
	}
	pp := s.newPipes(leaderParts{backends, routes, engine})
	s.mu.Lock()
	s.pipes = pp
	s.mu.Unlock()
	s.apiSwap.set(s.apiHandler(leaderParts{backends, routes, engine}))
	s.mu.Lock()
	s.backend, s.routes, s.engine, s.held, s.databases = backends, routes, engine, held, databases
	s.mu.Unlock()
	return nil
}

// gatedEngine is the leader's engine behind the gates every new rollout
// passes, whether asked directly or through the pipeline: the data plane
// is up, the environment's router routes it.
func gatedEngine(p leaderParts) api.Engine {
	return gateRouted(gateRollouts(p.engine, ownRouter(p.routes.router)), p.routes.router)
}

// apiHandler builds the API. With the leader's parts it is the whole API;
// without (p zero: a follower) it answers the reads of stored state, which
// is all the gate lets through to a follower's API.
func (s *Server) apiHandler(p leaderParts) http.Handler {
	o := api.Options{Store: s.store, Version: s.opts.Version, Tokens: s.tokens, Audit: s.audit, Policy: auth.DefaultPolicy(),
		Flags: s.flags, Metrics: s.metrics, Backends: s.opts.Backends.Names(),
		AuthLimit: s.opts.AuthLimit, CheckCommand: s.checkCommand}
	o.Alerts = s.alertList
	if p.engine != nil {
		o.Engine = gatedEngine(p)
		o.DataPlane = dataPlaneStatus(ownRouter(p.routes.router))
		o.Instances = p.backend.Instances
		o.Conditions = s.conditions
		o.Analysis = p.engine.LiveAnalysis
		o.Traffic = p.routes.traffic
		o.Scrapes = s.scrapeStatus
		o.Logs = func(ctx context.Context, app, env, instance string, tail int64, follow bool, since time.Time) (io.ReadCloser, error) {
			return p.backend.Logs(ctx, app, env, instance, backend.LogOptions{TailBytes: tail, Follow: follow, Since: since})
		}
		o.Applied = func(_ context.Context, a spec.App) error { return s.applied(p, a) }
		o.DatabaseRollback = s.RollbackDatabase
		if pp := s.pipelinesOf(); pp != nil {
			o.Pipeline = pp.api
		}
	}
	return s.dash.Wrap(api.NewHandler(o))
}

// applied readies the leader for an app's spec before it is stored: each
// environment's backend must be one this server runs, and its routes open.
func (s *Server) applied(p leaderParts, a spec.App) error {
	if err := p.backend.assign(a); err != nil {
		return err
	}
	return p.routes.open(a)
}

// handlerSwap is an http.Handler whose handler can be replaced while it serves.
type handlerSwap struct{ h atomic.Pointer[http.Handler] }

func (h *handlerSwap) set(next http.Handler) { h.h.Store(&next) }

func (h *handlerSwap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*h.h.Load()).ServeHTTP(w, r)
}

// awaitLead returns at once when this server leads; otherwise it follows
// until it can take the lead, then starts the leader's parts. It returns
// nil when ctx ends first.
func (s *Server) awaitLead(ctx context.Context) error {
	if s.leading().engine != nil {
		return nil
	}
	if in, err := s.elector.Leader(ctx); err == nil {
		s.opts.Logger.Info("following", "leader", in.ID, "leader_api", in.APIURL, "term", in.Term)
	} else {
		s.opts.Logger.Info("following", "leader", "none yet")
	}
	if err := s.elector.Lead(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("leader election: %w", err)
	}
	start := time.Now()
	if err := s.lead(ctx); err != nil {
		return fmt.Errorf("take the lead: %w", err)
	}
	s.logLeading(ctx, start)
	return nil
}

// logLeading logs, once per leadership, that this server took the lead.
func (s *Server) logLeading(ctx context.Context, start time.Time) {
	in, _ := s.elector.Leader(ctx)
	s.opts.Logger.Info("leading", "term", in.Term, "took", time.Since(start).Round(time.Millisecond).String(),
		"detail", "instances adopted, proxies open, engine started")
}

// newElector returns the Elector for the server's state database: a lock
// file in the data directory for SQLite, an advisory lock for PostgreSQL.
func newElector(ctx context.Context, opts Options, self leader.Info) (leader.Elector, error) {
	if opts.StateDatabase.Kind == PostgreSQL {
		return leader.NewPostgres(ctx, leader.PostgresOptions{
			URL: opts.StateDatabase.URL, Self: self, Poll: opts.LeaderPoll, Logf: opts.Logf,
		})
	}
	return leader.NewLocal(filepath.Join(opts.DataDir, "gantry.lock"), self), nil
}

// serverID names this server among others: host, pid and API address.
func serverID(ln net.Listener) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), ln.Addr())
}

// analysisStates is st when it keeps analysis evidence; nil otherwise.
func analysisStates(st rollout.Store) rollout.AnalysisStateStore {
	as, _ := st.(rollout.AnalysisStateStore)
	return as
}
