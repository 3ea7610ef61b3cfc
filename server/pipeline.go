package server

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/auth"
	gates "github.com/gantry-dev/gantry/gate"
	"github.com/gantry-dev/gantry/hook"
	"github.com/gantry-dev/gantry/loadgen"
	"github.com/gantry-dev/gantry/migrate"
	"github.com/gantry-dev/gantry/pipeline"
	"github.com/gantry-dev/gantry/spec"
)

// pipes are the leader's gates and pipeline runner.
type pipes struct {
	api    *api.Pipeline
	runner *pipeline.Runner
	// stop ends the runs' context when the leader stops.
	stop context.CancelFunc
	once sync.Once
}

// newPipes builds the gates and the pipeline runner over the leader's parts.
func (s *Server) newPipes(p leaderParts) *pipes {
	store, ok := s.store.(pipeline.Store)
	if !ok {
		return nil
	}
	bg, stop := context.WithCancel(context.Background())
	hooks := hook.Runner{BaseDir: s.opts.BaseDir, Client: &http.Client{}}
	keeper := &pipeline.Gatekeeper{Rollouts: s.events, Store: store, Hooks: hooks, Alerts: s.alertFact,
		Migrations: func(ctx context.Context, app, env string, sp spec.AppSpec) (int, error) {
			return s.validateMigrations(ctx, app, env, sp)
		}}
	deployer := &pipeline.Deployer{Gates: keeper, Engine: gatedEngine(p), Hooks: hooks, Background: bg}
	runner := &pipeline.Runner{Deployer: deployer, Store: store, Events: s.events, Audit: s.audit, Background: bg,
		DefaultApproval: auth.DefaultPolicy().NeedsApproval,
		Perf: func(ctx context.Context, app, env string, pt spec.PerfTest) (pipeline.PerfResult, error) {
			return perfTest(ctx, "http://"+p.routes.router.PreviewAddr(app, env), "http://"+p.routes.router.Addr(app, env), pt)
		}}
	return &pipes{runner: runner, stop: stop, api: &api.Pipeline{Deployer: deployer, Runner: runner, Store: store,
		ReadFile: func(path string) ([]byte, error) {
			if !filepath.IsAbs(path) {
				path = filepath.Join(s.opts.BaseDir, path)
			}
			return os.ReadFile(path)
		}}}
}

// runPipelines resumes the runs and the deploys' end hooks an earlier
// leader left and, when ctx ends, stops every run (each stays Running in
// the store for the next leader) and waits for them.
func (s *Server) runPipelines(ctx context.Context, pp *pipes) {
	if pp == nil {
		return
	}
	if err := pp.runner.Resume(context.WithoutCancel(ctx)); err != nil {
		s.opts.Logf("%v", err)
	}
	if err := pp.runner.Deployer.Resume(context.WithoutCancel(ctx)); err != nil {
		s.opts.Logf("%v", err)
	}
	<-ctx.Done()
	pp.once.Do(pp.stop)
	pp.runner.Wait()
}

// validateMigrations checks an app's migrations against its database
// (pending ones are expected before a deploy).
func (s *Server) validateMigrations(ctx context.Context, app, env string, sp spec.AppSpec) (int, error) {
	d := &appDatabases{dataDir: s.opts.DataDir, baseDir: s.opts.BaseDir, logf: s.opts.Logf}
	db, err := d.resolve(app, env, sp)
	if err != nil {
		return 0, err
	}
	m, err := d.migrator(ctx, db)
	if err != nil {
		return 0, err
	}
	defer m.Close(context.WithoutCancel(ctx))
	info, err := m.Validate(ctx, migrate.ValidateOptions{IgnorePending: true})
	if err != nil {
		return 0, migrate.Redact(err, db.url)
	}
	return len(info.Entries), nil
}

// perfTest sends pt's load to the preview and to the stable revision at
// once, for pt's duration, and measures both p95 latencies.
func perfTest(ctx context.Context, previewURL, stableURL string, pt spec.PerfTest) (pipeline.PerfResult, error) {
	if previewURL == "http://" {
		return pipeline.PerfResult{}, fmt.Errorf("the environment has no preview listener")
	}
	ctx, cancel := context.WithTimeout(ctx, pt.Duration())
	defer cancel()
	workers := max(4, min(64, pt.Rate()/10))
	green := loadgen.Start(ctx, loadgen.Options{URL: previewURL + pt.Target(), Rate: pt.Rate(), Workers: workers, Timeout: 10 * time.Second})
	var blue *loadgen.Load
	if stableURL != "http://" {
		blue = loadgen.Start(ctx, loadgen.Options{URL: stableURL + pt.Target(), Rate: pt.Rate(), Workers: workers, Timeout: 10 * time.Second})
	}
	<-ctx.Done()
	green.Wait()
	res := pipeline.PerfResult{Requests: int(green.Total()), Errors: int(green.Failed()), MaxRatio: pt.MaxRatio(),
		NewP95Ms: ms(green.Quantile(0.95))}
	if blue != nil {
		blue.Wait()
		if blue.Total()-blue.Failed() > 0 {
			res.StableP95Ms = ms(blue.Quantile(0.95))
		}
	}
	if res.StableP95Ms > 0 {
		res.Ratio = res.NewP95Ms / res.StableP95Ms
	}
	return res, nil
}

// pipelinesOf returns the leader's pipes, nil while following.
func (s *Server) pipelinesOf() *pipes {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pipes
}

// alertFact is the alertRules gate's fact: the rules of the server's
// --alert-rules files (they watch every app; a rule naming one app is
// counted for all). Unknown without rule files.
func (s *Server) alertFact(context.Context, spec.App, string) gates.AlertFact {
	if s.alerts == nil {
		return gates.AlertFact{}
	}
	return gates.AlertFact{Known: true, Rules: s.alerts.alertingRules()}
}
