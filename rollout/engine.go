package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/analysis"
	"github.com/gantry-dev/gantry/internal/outage"
	"github.com/gantry-dev/gantry/spec"
)

// Options configure an Engine. Store, Backend, Router and Strategies are required.
type Options struct {
	Store   Store
	Backend Backend
	Router  Router
	// Strategies maps each strategy type to its planner. RollingUpdate is
	// required: every rollback rolls back with it.
	Strategies map[spec.StrategyType]Strategy
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Interval is how often every environment is reconciled; 0: 250ms.
	Interval time.Duration
	// CrashLoopRestarts is how many restarts of one instance of the new
	// revision count as a crash loop and roll it back; 0: 3.
	CrashLoopRestarts int
	// Metrics reads per-revision traffic for the analysis of canary and
	// blue-green rollouts; nil: the analysis sees no traffic and can judge
	// only instances (a canary then holds at each step for lack of evidence).
	Metrics MetricSource
	// SmokeTests runs a blue-green revision's smoke tests against the
	// preview listener; nil: smoke tests are skipped with an event.
	SmokeTests SmokeTester
	// Flags sets feature flags for canary setFlag steps and restores them
	// on rollback; nil: setFlag steps are skipped with a Warning event.
	Flags FlagSetter
	// Database backs up and migrates the database of a revision whose spec
	// has one, before the revision starts; nil: spec.database is ignored
	// (with a warning event per rollout).
	Database DatabaseMigrator
	// AnalysisStates keeps each rollout's analysis evidence across
	// restarts; nil: the Store's, when it implements AnalysisStateStore,
	// otherwise the evidence lives in memory only.
	AnalysisStates AnalysisStateStore
	// OnVerdict, when set, is given the verdict of each analysis
	// observation of a rollout of app/env (for counters); it must not
	// block. Nil: none.
	OnVerdict func(app, env string, v analysis.Verdict)
	// Logf receives diagnostics; nil: silent.
	Logf func(format string, args ...any)
}

// Engine drives rollouts. It is the only code that changes a rollout: each
// reconcile it writes a transition to the Store first and acts on the
// Backend and Router after. All its state beyond a few caches is in the
// Store, so a restarted engine carries on where the last one stopped.
type Engine struct {
	opts Options
	kick chan struct{}
	// started is when the engine was made: a server that takes the lead
	// makes a new one, and has watched nothing before it.
	started time.Time

	// envs serialises each environment's reconcile and commands; no
	// engine-wide lock is held across store or backend calls.
	envs envLocks
	// goroutines counts the goroutines the engine started (database jobs);
	// Run waits for them before it returns.
	goroutines sync.WaitGroup

	// cache guards the maps below; it is held only to read or write them.
	cache     sync.Mutex
	revisions map[revisionKey]Revision
	progress  map[int64]progressMark
	scaled    map[groupKey]int
	// unstartable holds the ErrCannotStart error of each revision whose
	// instances cannot start, so it is acted on (and logged) once.
	unstartable map[revisionKey]error
	analyses    map[int64]*analysisRun
	// databaseJobs are the running database jobs (database.go).
	databaseJobs *dbJobs
}

type revisionKey struct {
	app, env string
	number   int
}

// progressMark is what a rollout's target looked like at the last reconcile.
type progressMark struct {
	total, available, old int
}

// New checks opts and returns an engine; call Run to start it.
func New(opts Options) (*Engine, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("rollout engine: no store")
	case opts.Backend == nil:
		return nil, errors.New("rollout engine: no backend")
	case opts.Router == nil:
		return nil, errors.New("rollout engine: no router")
	case opts.Strategies[spec.RollingUpdate] == nil:
		return nil, errors.New("rollout engine: no RollingUpdate strategy (rollbacks use it)")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Interval <= 0 {
		opts.Interval = 250 * time.Millisecond
	}
	if opts.CrashLoopRestarts <= 0 {
		opts.CrashLoopRestarts = 3
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	return &Engine{
		opts:        opts,
		kick:        make(chan struct{}, 1),
		started:     opts.Now(),
		revisions:   map[revisionKey]Revision{},
		progress:    map[int64]progressMark{},
		scaled:      map[groupKey]int{},
		unstartable: map[revisionKey]error{},
		analyses:    map[int64]*analysisRun{},

		databaseJobs: &dbJobs{jobs: map[int64]*dbJob{}},
	}, nil
}

// Run reconciles every environment of every app until ctx ends. It returns
// only after every goroutine the engine started has returned (Wait), so
// the store can be closed after it.
func (e *Engine) Run(ctx context.Context) error {
	defer e.Wait()
	if err := e.repairTrail(ctx); err != nil && ctx.Err() == nil {
		e.opts.Logf("repair the event trail: %v", err)
	}
	t := time.NewTicker(e.opts.Interval)
	defer t.Stop()
	// A failure that repeats every tick (a full disk, a database that is
	// down) is logged when it begins, as reminders with a count, and when
	// it ends.
	failures := outage.New(outage.Options{What: "reconcile", Logf: e.opts.Logf, Now: e.opts.Now})
	for {
		if err := e.Reconcile(ctx); err != nil && ctx.Err() == nil {
			failures.Failed(err)
		} else if err == nil {
			failures.Succeeded()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-e.kick:
		}
	}
}

// Kick asks Run to reconcile now rather than at the next tick.
func (e *Engine) Kick() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// Wait returns when every goroutine the engine started (the database jobs
// of Migrating rollouts) has returned. They end with the context of the
// Reconcile that started them; Run's ends when Run's does.
func (e *Engine) Wait() { e.goroutines.Wait() }

// Reconcile brings every environment of every applied app one step closer
// to what its stored rollouts say. Each environment is reconciled under
// its own lock (commands on it wait for that one environment only).
func (e *Engine) Reconcile(ctx context.Context) error {
	apps, err := e.opts.Store.ListApps(ctx)
	if err != nil {
		return fmt.Errorf("list apps: %w", err)
	}
	var errs []error
	for _, a := range apps {
		for _, env := range a.Spec.Environments {
			if ctx.Err() != nil {
				return errors.Join(append(errs, ctx.Err())...)
			}
			unlock := e.envs.lock(a.Name, env.Name)
			err := e.reconcileEnv(ctx, a.Name, env.Name)
			unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s/%s: %w", a.Name, env.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (e *Engine) reconcileEnv(ctx context.Context, app, env string) error {
	rs, err := e.opts.Store.ListRollouts(ctx, RolloutFilter{App: app, Env: env, Limit: 8})
	if err != nil {
		return fmt.Errorf("list rollouts: %w", err)
	}
	if len(rs) == 0 {
		return nil
	}
	latest := rs[0]
	// A newer rollout supersedes any older one still active.
	for _, old := range rs[1:] {
		if !old.Phase.Final() {
			if _, err := e.move(ctx, old, Superseded, fact{Type: Normal, Reason: ReasonSuperseded,
				Message: fmt.Sprintf("superseded by rollout %d", latest.ID), Details: &Details{Rollout: latest.ID}}); err != nil {
				return err
			}
		}
	}
	if latest.Phase.Final() {
		return e.steady(ctx, latest)
	}
	return e.advance(ctx, latest)
}

// steady keeps the stable revision running at its replica count and
// everything else stopped.
func (e *Engine) steady(ctx context.Context, r Rollout) error {
	stable := r.Stable()
	plan := Plan{Replicas: map[int]int{}}
	if stable != 0 {
		rev, err := e.revision(ctx, r.App, r.Env, stable)
		if err != nil {
			return err
		}
		if plan.Replicas[stable], err = e.steadyReplicas(ctx, rev); err != nil {
			return err
		}
	}
	return e.act(ctx, r, plan)
}

// fact is what an event records about a rollout, beyond the rollout itself.
type fact struct {
	Type   EventType
	Reason Reason
	// Message renders the facts for people.
	Message string
	// Actor is who caused it; "": gantry.
	Actor   string
	Details *Details
}

// transition writes r's new phase to the store and records an event; the
// caller acts on it only after this returns without error.
func (e *Engine) transition(ctx context.Context, r Rollout, to Phase, reason Reason, message string, typ EventType) (Rollout, error) {
	return e.move(ctx, r, to, fact{Type: typ, Reason: reason, Message: message})
}

// move writes r's new phase, with f's reason, message and details, to the
// store and records f as the transition's event; the caller acts on it
// only after this returns without error.
func (e *Engine) move(ctx context.Context, r Rollout, to Phase, f fact) (Rollout, error) {
	now := e.opts.Now()
	from := r.Phase
	r.Phase, r.Reason, r.Message, r.Details, r.UpdatedAt = to, f.Reason, f.Message, f.Details, now
	if to.Final() {
		r.FinishedAt = now
		e.cache.Lock()
		delete(e.analyses, r.ID)
		delete(e.progress, r.ID)
		e.cache.Unlock()
	}
	if to == Progressing && from == Pending {
		r.LastProgressAt, r.StepStartedAt = now, now
	}
	if to == RollingBack {
		r.LastProgressAt = now
	}
	stored, err := e.opts.Store.UpdateRollout(ctx, r)
	if err != nil {
		return r, fmt.Errorf("rollout %d %s -> %s: %w", r.ID, from, to, err)
	}
	e.record(ctx, stored, from, to, f)
	return stored, nil
}

func (e *Engine) event(ctx context.Context, r Rollout, typ EventType, reason Reason, message, actor string) {
	e.record(ctx, r, 0, 0, fact{Type: typ, Reason: reason, Message: message, Actor: actor})
}

// record stores f as an event of r; from and to are the phases of the
// transition it records, zero when it records none.
func (e *Engine) record(ctx context.Context, r Rollout, from, to Phase, f fact) {
	if f.Actor == "" {
		f.Actor = "gantry"
	}
	_, err := e.opts.Store.AppendEvent(ctx, Event{
		Time: e.opts.Now(), App: r.App, Env: r.Env, RolloutID: r.ID,
		Type: f.Type, Reason: f.Reason, From: from, To: to, Actor: f.Actor, Details: f.Details,
		Message: renderTransition(from, to, f.Message),
	})
	if err != nil {
		e.opts.Logf("record event %s: %v", f.Reason, err)
	}
}

// revision returns a stored revision, cached: revisions never change.
func (e *Engine) revision(ctx context.Context, app, env string, n int) (Revision, error) {
	k := revisionKey{app, env, n}
	e.cache.Lock()
	rev, ok := e.revisions[k]
	e.cache.Unlock()
	if ok {
		return rev, nil
	}
	rev, err := e.opts.Store.GetRevision(ctx, app, env, n)
	if err != nil {
		return Revision{}, fmt.Errorf("revision %d: %w", n, err)
	}
	e.cache.Lock()
	e.revisions[k] = rev
	e.cache.Unlock()
	return rev, nil
}

// scaleOrder orders the scaling of a plan as a Deployment does: the
// revisions that grow first (newest first), then those that shrink
// (oldest first), so that the sizes in between are those a Deployment's
// controller goes through (it scales up, then down in its next sync).
func scaleOrder(want, running map[scaleKey]int) []scaleKey {
	keys := make([]scaleKey, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b scaleKey) int {
		ua, ub := want[a] > running[a], want[b] > running[b]
		switch {
		case ua != ub && ua:
			return -1
		case ua != ub:
			return 1
		case ua && a.revision != b.revision:
			return b.revision - a.revision
		case a.revision != b.revision:
			return a.revision - b.revision
		}
		return strings.Compare(a.group, b.group)
	})
	return keys
}

// act scales every revision as plan says (those it does not name to zero),
// the stable revision's baseline group to plan.Baseline (other groups to
// zero), and applies its traffic split.
func (e *Engine) act(ctx context.Context, r Rollout, plan Plan) error {
	want := map[scaleKey]int{}
	for n, c := range plan.Replicas {
		want[scaleKey{n, GroupPrimary}] = c
	}
	if plan.Baseline > 0 && r.FromRevision != 0 {
		want[scaleKey{r.FromRevision, GroupBaseline}] = plan.Baseline
	}
	running := map[scaleKey]int{}
	for _, in := range e.opts.Backend.Instances(r.App, r.Env) {
		if in.State == Terminating {
			continue
		}
		k := scaleKey{in.Revision, in.Group}
		running[k]++
		if _, ok := want[k]; !ok {
			want[k] = 0
		}
	}
	var errs []error
	for _, sk := range scaleOrder(want, running) {
		c := want[sk]
		n := sk.revision
		rev, err := e.revision(ctx, r.App, r.Env, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		k := revisionKey{r.App, r.Env, n}
		if err := e.scale(ctx, rev, sk.group, c); err != nil {
			if errors.Is(err, ErrCannotStart) {
				// Not retried: a rollout to rev ends at once (advance);
				// said once, not on every tick.
				e.cache.Lock()
				_, known := e.unstartable[k]
				e.unstartable[k] = err
				e.cache.Unlock()
				if !known {
					e.opts.Logf("%s/%s: revision %d (%s) cannot start: %v", r.App, r.Env, n, rev.Version, err)
				}
				continue
			}
			errs = append(errs, fmt.Errorf("scale revision %d%s to %d: %w", n, groupSuffix(sk.group), c, err))
			continue
		}
		e.cache.Lock()
		delete(e.unstartable, k)
		prev, ok := e.scaled[groupKey{k, sk.group}]
		e.scaled[groupKey{k, sk.group}] = c
		e.cache.Unlock()
		// After a restart, instances already at the count are no news.
		if (!ok || prev != c) && (ok || c != running[sk]) {
			e.record(ctx, r, 0, 0, fact{Type: Normal, Reason: ReasonScaled,
				Message: fmt.Sprintf("revision %d (%s)%s scaled to %d instance(s)", n, rev.Version, groupSuffix(sk.group), c),
				Details: &Details{Scale: &ScaleFacts{Revision: n, Version: rev.Version, Group: sk.group, Instances: c}}})
		}
	}
	if err := e.opts.Router.SetTraffic(r.App, r.Env, plan.Traffic); err != nil {
		errs = append(errs, fmt.Errorf("set traffic: %w", err))
	}
	return errors.Join(errs...)
}
