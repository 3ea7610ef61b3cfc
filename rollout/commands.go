package rollout

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gantry-dev/gantry/spec"
)

// ErrInvalid marks a command refused because of what was asked (unknown
// app, environment or revision); the message says how to fix it.
var ErrInvalid = errors.New("invalid request")

// DeployRequest asks for Version of App to be rolled out in Env.
type DeployRequest struct {
	App, Env, Version string
	// Actor is who asked, for the event log.
	Actor string
}

// Deploy creates a revision of the app's applied spec for env running
// version, and a rollout to it that the engine starts on its next
// reconcile. An active rollout of the same app and environment is superseded.
func (e *Engine) Deploy(ctx context.Context, req DeployRequest) (Rollout, error) {
	if strings.TrimSpace(req.Version) == "" {
		return Rollout{}, fmt.Errorf("%w: version is empty: pass --version, such as --version v1.2.3", ErrInvalid)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	app, err := e.opts.Store.GetApp(ctx, req.App)
	if errors.Is(err, ErrNotFound) {
		return Rollout{}, fmt.Errorf("%w: app %q is not applied: run gantry apply -f gantry.yaml first", ErrInvalid, req.App)
	}
	if err != nil {
		return Rollout{}, fmt.Errorf("load app %q: %w", req.App, err)
	}
	resolved, err := app.Spec.Resolve(req.Env)
	if err != nil {
		return Rollout{}, fmt.Errorf("%w: %v (environments of %s: %s)", ErrInvalid, err, req.App,
			strings.Join(app.Spec.EnvironmentNames(), ", "))
	}
	rev, err := e.opts.Store.CreateRevision(ctx, Revision{
		App: req.App, Env: req.Env, Version: req.Version, Spec: resolved, CreatedAt: e.opts.Now(),
	})
	if err != nil {
		return Rollout{}, fmt.Errorf("create revision: %w", err)
	}
	return e.start(ctx, rev, req.Actor, "RolloutCreated",
		fmt.Sprintf("deploy %s as revision %d", rev.Version, rev.Number))
}

// Undo rolls an app in env back to revision toRevision, or, when it is 0,
// to the revision that was stable before the current one.
func (e *Engine) Undo(ctx context.Context, app, env string, toRevision int, actor string) (Rollout, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rs, err := e.opts.Store.ListRollouts(ctx, RolloutFilter{App: app, Env: env})
	if err != nil {
		return Rollout{}, fmt.Errorf("list rollouts: %w", err)
	}
	if len(rs) == 0 {
		return Rollout{}, fmt.Errorf("%w: %s has never been deployed to %s", ErrInvalid, app, env)
	}
	stable := rs[0].Stable()
	if toRevision == 0 {
		toRevision = previousStable(rs, stable)
		if toRevision == 0 {
			return Rollout{}, fmt.Errorf("%w: %s in %s has no revision before %d to go back to", ErrInvalid, app, env, stable)
		}
	}
	if toRevision == stable && rs[0].Phase.Final() {
		return Rollout{}, fmt.Errorf("%w: revision %d already serves %s in %s", ErrInvalid, toRevision, app, env)
	}
	rev, err := e.opts.Store.GetRevision(ctx, app, env, toRevision)
	if errors.Is(err, ErrNotFound) {
		return Rollout{}, fmt.Errorf("%w: %s in %s has no revision %d: see gantry rollout history", ErrInvalid, app, env, toRevision)
	}
	if err != nil {
		return Rollout{}, fmt.Errorf("load revision %d: %w", toRevision, err)
	}
	return e.start(ctx, rev, actor, "RolloutUndo",
		fmt.Sprintf("undo to revision %d (%s)", rev.Number, rev.Version))
}

// previousStable finds the revision that was stable before stable: the
// starting point of the rollout that made stable stable.
func previousStable(rs []Rollout, stable int) int {
	for _, r := range rs {
		if r.Phase == Succeeded && r.ToRevision == stable && r.FromRevision != 0 {
			return r.FromRevision
		}
	}
	return 0
}

// start records a rollout to rev and supersedes any active one.
func (e *Engine) start(ctx context.Context, rev Revision, actor, reason, message string) (Rollout, error) {
	active, err := e.opts.Store.ListRollouts(ctx, RolloutFilter{App: rev.App, Env: rev.Env, Limit: 1})
	if err != nil {
		return Rollout{}, fmt.Errorf("list rollouts: %w", err)
	}
	from := 0
	if len(active) > 0 {
		from = active[0].Stable()
	}
	now := e.opts.Now()
	strategy := rev.Spec.StrategyType()
	if from == 0 {
		// A first deploy has nothing to shift traffic from: it rolls.
		strategy = spec.RollingUpdate
	}
	r, err := e.opts.Store.CreateRollout(ctx, Rollout{
		App: rev.App, Env: rev.Env, Strategy: strategy,
		FromRevision: from, ToRevision: rev.Number, Phase: Pending,
		Actor: actor, CreatedAt: now, UpdatedAt: now, LastProgressAt: now, StepStartedAt: now,
		Message: message,
	})
	if err != nil {
		return Rollout{}, fmt.Errorf("create rollout: %w", err)
	}
	e.event(ctx, r, Normal, reason, message, actor)
	if len(active) > 0 && !active[0].Phase.Final() {
		if _, err := e.transition(ctx, active[0], Superseded, "Superseded",
			fmt.Sprintf("superseded by rollout %d", r.ID), Normal); err != nil {
			e.opts.Logf("supersede rollout %d: %v", active[0].ID, err)
		}
	}
	e.Kick()
	return r, nil
}
