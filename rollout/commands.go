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
	if err := CheckVersion(req.Version); err != nil {
		return Rollout{}, err
	}
	defer e.envs.lock(req.App, req.Env)()
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
	return e.start(ctx, rev, req.Actor, fact{Reason: ReasonRolloutCreated,
		Message: fmt.Sprintf("deploy %s as revision %d", rev.Version, rev.Number)})
}

// Undo rolls an app in env back to revision toRevision, or, when it is 0,
// to the revision that was stable before the current one.
func (e *Engine) Undo(ctx context.Context, app, env string, toRevision int, actor string) (Rollout, error) {
	return e.undo(ctx, app, env, toRevision, actor, ReasonRolloutUndo)
}

// UndoAfterDatabaseRollback is Undo for `gantry db rollback`: it restarts
// revision toRevision on a database already restored for it, so the
// rollout (Cause ReasonDatabaseRollback) runs no migrations.
func (e *Engine) UndoAfterDatabaseRollback(ctx context.Context, app, env string, toRevision int, actor string) (Rollout, error) {
	return e.undo(ctx, app, env, toRevision, actor, ReasonDatabaseRollback)
}

func (e *Engine) undo(ctx context.Context, app, env string, toRevision int, actor string, cause Reason) (Rollout, error) {
	defer e.envs.lock(app, env)()
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
	what := "undo"
	if cause == ReasonDatabaseRollback {
		what = "gantry db rollback: restart"
	}
	return e.start(ctx, rev, actor, fact{Reason: cause,
		Message: fmt.Sprintf("%s to revision %d (%s)", what, rev.Number, rev.Version)})
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

// start records a rollout to rev, created for why (its reason becomes the
// rollout's Cause), and supersedes any active one.
func (e *Engine) start(ctx context.Context, rev Revision, actor string, why fact) (Rollout, error) {
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
		Actor: actor, Cause: why.Reason, CreatedAt: now, UpdatedAt: now, LastProgressAt: now, StepStartedAt: now,
		Message: why.Message,
	})
	if err != nil {
		return Rollout{}, fmt.Errorf("create rollout: %w", err)
	}
	if why.Details == nil {
		why.Details = &Details{}
	}
	why.Details.Revision, why.Details.Version = rev.Number, rev.Version
	why.Type, why.Actor = Normal, actor
	e.record(ctx, r, 0, 0, why)
	if len(active) > 0 && !active[0].Phase.Final() {
		if _, err := e.move(ctx, active[0], Superseded, fact{Type: Normal, Reason: ReasonSuperseded,
			Message: fmt.Sprintf("superseded by rollout %d", r.ID), Details: &Details{Rollout: r.ID}}); err != nil {
			e.opts.Logf("supersede rollout %d: %v", active[0].ID, err)
		}
	}
	e.Kick()
	return r, nil
}

// CommandRequest names the rollout a command acts on and who asks, and why.
type CommandRequest struct {
	App, Env string
	Actor    string
	// Why is the user's explanation, recorded in the event.
	Why string
}

// details are the command's facts: the user's explanation.
func (c CommandRequest) details() *Details {
	if c.Why == "" {
		return nil
	}
	return &Details{Why: c.Why}
}

func (c CommandRequest) describe(what string) string {
	s := what + " by " + c.Actor
	if c.Actor == "" {
		s = what
	}
	if c.Why != "" {
		s += ": " + c.Why
	}
	return s
}

// active returns the environment's active rollout.
func (e *Engine) active(ctx context.Context, app, env string) (Rollout, error) {
	rs, err := e.opts.Store.ListRollouts(ctx, RolloutFilter{App: app, Env: env, Limit: 1})
	if err != nil {
		return Rollout{}, fmt.Errorf("list rollouts: %w", err)
	}
	if len(rs) == 0 || rs[0].Phase.Final() {
		return Rollout{}, fmt.Errorf("%w: no rollout of %s is in progress in %s", ErrInvalid, app, env)
	}
	if rs[0].Phase == Migrating || rs[0].Phase == Pending {
		// A migration runs in the background and decides for itself
		// whether the rollout goes on or is rolled back with a restore.
		return Rollout{}, fmt.Errorf("%w: rollout %d is %s (the database is being backed up and migrated); wait until it is Progressing",
			ErrInvalid, rs[0].ID, rs[0].Phase)
	}
	return rs[0], nil
}

// Promote moves the active rollout past its current step (a pause, or a
// step holding for evidence), or with full straight to the end: the new
// revision takes all traffic. A user's promotion overrides the analysis'
// wait for evidence, never a rollback already decided.
func (e *Engine) Promote(ctx context.Context, req CommandRequest, full bool) (Rollout, error) {
	defer e.envs.lock(req.App, req.Env)()
	r, err := e.active(ctx, req.App, req.Env)
	if err != nil {
		return r, err
	}
	return e.promote(ctx, req, r, full)
}

// promote promotes r, the active rollout; the caller holds its environment's lock.
func (e *Engine) promote(ctx context.Context, req CommandRequest, r Rollout, full bool) (Rollout, error) {
	if r.Phase == RollingBack {
		return r, fmt.Errorf("%w: rollout %d is rolling back (%s); deploy again to retry", ErrInvalid, r.ID, r.Reason)
	}
	target, err := e.revision(ctx, r.App, r.Env, r.ToRevision)
	if err != nil {
		return r, err
	}
	strategy, ok := e.opts.Strategies[r.Strategy]
	if !ok {
		return r, fmt.Errorf("%w: rollout %d uses the %s strategy, which this gantry does not have; abort it or deploy again", ErrInvalid, r.ID, r.Strategy)
	}
	last := strategy.Describe(target.Spec).LastStep()
	now := e.opts.Now()
	what := "promoted to the next step"
	r.Step++
	if full || r.Step > last {
		r.Step = last
		what = "promoted fully"
	}
	r.Phase, r.Reason = Progressing, ReasonPromoted
	r.StepStartedAt, r.LastProgressAt, r.UpdatedAt = now, now, now
	r.Message = req.describe(what)
	r.Details = &Details{Step: r.Step, Why: req.Why}
	stored, err := e.opts.Store.UpdateRollout(ctx, r)
	if err != nil {
		return r, fmt.Errorf("promote rollout %d: %w", r.ID, err)
	}
	e.record(ctx, stored, 0, 0, fact{Type: Normal, Reason: ReasonPromoted, Message: r.Message, Actor: req.Actor, Details: r.Details})
	e.Kick()
	return stored, nil
}

// Abort stops the active rollout: the stable revision gets all traffic
// back and the new revision is scaled away; the rollout ends Aborted.
func (e *Engine) Abort(ctx context.Context, req CommandRequest) (Rollout, error) {
	defer e.envs.lock(req.App, req.Env)()
	r, err := e.active(ctx, req.App, req.Env)
	if err != nil {
		return r, err
	}
	if r.Phase == RollingBack {
		return r, fmt.Errorf("%w: rollout %d is already rolling back (%s)", ErrInvalid, r.ID, r.Reason)
	}
	stored, err := e.move(ctx, r, RollingBack, fact{Type: Warning, Reason: ReasonAborted, Message: req.describe("aborted"),
		Actor: req.Actor, Details: req.details()})
	if err != nil {
		return r, err
	}
	e.Kick()
	return stored, nil
}

// Pause holds the active rollout where it is; Resume lets it go on.
func (e *Engine) Pause(ctx context.Context, req CommandRequest) (Rollout, error) {
	defer e.envs.lock(req.App, req.Env)()
	return e.setPaused(ctx, req, true)
}

// Resume continues a paused rollout; at a pause step without a duration it
// is the same as Promote.
func (e *Engine) Resume(ctx context.Context, req CommandRequest) (Rollout, error) {
	defer e.envs.lock(req.App, req.Env)()
	r, err := e.active(ctx, req.App, req.Env)
	if err == nil && r.Phase == Paused && r.Reason == ReasonPauseStep {
		return e.promote(ctx, req, r, false)
	}
	return e.setPaused(ctx, req, false)
}

// setPaused pauses or resumes the active rollout; the caller holds its
// environment's lock.
func (e *Engine) setPaused(ctx context.Context, req CommandRequest, pause bool) (Rollout, error) {
	r, err := e.active(ctx, req.App, req.Env)
	if err != nil {
		return r, err
	}
	from, to, reason, what := Progressing, Paused, ReasonPaused, "paused"
	if !pause {
		from, to, reason, what = Paused, Progressing, ReasonResumed, "resumed"
	}
	if r.Phase != from {
		return r, fmt.Errorf("%w: rollout %d is %s, not %s", ErrInvalid, r.ID, r.Phase, from)
	}
	if !pause {
		r.LastProgressAt = e.opts.Now()
	}
	stored, err := e.move(ctx, r, to, fact{Type: Normal, Reason: reason, Message: req.describe(what), Actor: req.Actor, Details: req.details()})
	if err != nil {
		return r, err
	}
	e.Kick()
	return stored, nil
}

// Retry starts a new rollout to the revision of the environment's latest
// rollout when that one was rolled back or aborted.
func (e *Engine) Retry(ctx context.Context, req CommandRequest) (Rollout, error) {
	defer e.envs.lock(req.App, req.Env)()
	rs, err := e.opts.Store.ListRollouts(ctx, RolloutFilter{App: req.App, Env: req.Env, Limit: 1})
	if err != nil {
		return Rollout{}, fmt.Errorf("list rollouts: %w", err)
	}
	if len(rs) == 0 || (rs[0].Phase != RolledBack && rs[0].Phase != Aborted && rs[0].Phase != Failed) {
		return Rollout{}, fmt.Errorf("%w: only a rolled back, aborted or failed rollout can be retried; the latest of %s in %s is not", ErrInvalid, req.App, req.Env)
	}
	rev, err := e.revision(ctx, req.App, req.Env, rs[0].ToRevision)
	if err != nil {
		return Rollout{}, err
	}
	return e.start(ctx, rev, req.Actor, fact{Reason: ReasonRolloutRetried,
		Message: req.describe(fmt.Sprintf("retry of rollout %d (revision %d, %s)", rs[0].ID, rev.Number, rev.Version)),
		Details: &Details{Rollout: rs[0].ID, Why: req.Why}})
}
