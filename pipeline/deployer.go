package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/gate"
	"github.com/gantry-dev/gantry/hook"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// Engine is what a deploy asks of the rollout engine.
type Engine interface {
	Deploy(ctx context.Context, req rollout.DeployRequest) (rollout.Rollout, error)
	Promote(ctx context.Context, req rollout.CommandRequest, full bool) (rollout.Rollout, error)
	Abort(ctx context.Context, req rollout.CommandRequest) (rollout.Rollout, error)
}

// Deployer deploys behind the gates: it checks them, records the
// checklist (Store.AddCheck) and a GatesPassed, GatesRefused or
// GatesOverridden event, starts the rollout, and runs the post-rollout or
// on-rollback hooks when the rollout ends.
type Deployer struct {
	Gates  *Gatekeeper
	Engine Engine
	// Hooks runs post-rollout and on-rollback hooks; nil: none run.
	Hooks HookRunner
	// Background bounds the watches that run hooks after a rollout ends
	// (the server's lifetime); nil: context.Background().
	Background context.Context
	// Poll is how often a watch reads the rollout; 0: 250ms.
	Poll time.Duration
}

// Outcome is a deploy's checklist and, when it went ahead, its rollout.
type Outcome struct {
	Checklist gate.Checklist `json:"checklist"`
	// Rollout is the started rollout; nil for a dry run or a refusal.
	Rollout *rollout.Rollout `json:"rollout,omitempty"`
}

// Deploy checks req's gates and, unless it is a dry run or a gate
// refuses (an error wrapping ErrRefused), starts the rollout.
func (d *Deployer) Deploy(ctx context.Context, req Request) (Outcome, error) {
	list, err := d.Gates.Check(ctx, req)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{Checklist: list}
	if req.DryRun {
		return out, nil
	}
	check := Check{App: req.App, Env: req.Env, Version: req.Version, Actor: req.Actor, Override: req.Override, Checklist: list, At: d.Gates.now()}
	if !list.Passed() {
		d.record(ctx, check, rollout.ReasonGatesRefused)
		return out, fmt.Errorf("%w: deploy of %s %s to %s: %s", ErrRefused, req.App, req.Version, req.Env, list.Refusal())
	}
	ro, err := d.Engine.Deploy(ctx, rollout.DeployRequest{App: req.App, Env: req.Env, Version: req.Version, Actor: req.Actor})
	if err != nil {
		return out, err
	}
	out.Rollout, check.RolloutID = &ro, ro.ID
	reason := rollout.ReasonGatesPassed
	if list.Overridden() {
		reason = rollout.ReasonGatesOverridden
	}
	d.record(ctx, check, reason)
	d.watch(ro)
	return out, nil
}

// record stores the checklist and its event; a failure to record is
// reported in the event log's place: the deploy's own audit record keeps
// the request either way.
func (d *Deployer) record(ctx context.Context, c Check, reason rollout.Reason) {
	if _, err := d.Gates.Store.AddCheck(ctx, c); err != nil {
		c.Override += " (gate checks not stored: " + err.Error() + ")"
	}
	facts := make([]rollout.GateFact, len(c.Checklist))
	for i, r := range c.Checklist {
		facts[i] = rollout.GateFact{Gate: r.Gate, Status: r.Status.String(), Advisory: r.Advisory, Reason: r.Reason}
	}
	typ, msg := rollout.Normal, fmt.Sprintf("every gate passed for %s", c.Version)
	switch reason {
	case rollout.ReasonGatesRefused:
		typ, msg = rollout.Warning, fmt.Sprintf("deploy of %s refused: %s", c.Version, c.Checklist.Refusal())
	case rollout.ReasonGatesOverridden:
		typ, msg = rollout.Warning, fmt.Sprintf("deploy of %s past failing gates by emergency override: %s", c.Version, c.Override)
	}
	d.Gates.Rollouts.AppendEvent(ctx, rollout.Event{Time: c.At, App: c.App, Env: c.Env, RolloutID: c.RolloutID, Type: typ,
		Reason: reason, Message: msg, Actor: c.Actor,
		Details: &rollout.Details{Gates: facts, Version: c.Version, Why: c.Override}})
}

// watch runs the environment's post-rollout or on-rollback hooks once
// the rollout ends, in the background.
func (d *Deployer) watch(ro rollout.Rollout) {
	rec, err := d.Gates.Rollouts.GetApp(context.Background(), ro.App)
	if err != nil || d.Hooks == nil {
		return
	}
	env, _ := rec.Spec.Environment(ro.Env)
	if env.Policy == nil || len(env.Policy.Hooks.PostRollout)+len(env.Policy.Hooks.OnRollback) == 0 {
		return
	}
	ctx := d.Background
	if ctx == nil {
		ctx = context.Background()
	}
	go func() {
		final, err := WaitRollout(ctx, d.Gates.Rollouts, ro.ID, d.Poll, func(r rollout.Rollout) bool { return r.Phase.Final() })
		if err != nil {
			return
		}
		d.runEndHooks(ctx, &rec.Spec, env, final)
	}()
}

// runEndHooks runs post-rollout hooks for a succeeded rollout and
// on-rollback hooks for one rolled back, aborted or failed, recording
// each as a HookRan or HookFailed event.
func (d *Deployer) runEndHooks(ctx context.Context, app *spec.App, env spec.Environment, ro rollout.Rollout) {
	point, names := hook.PostRollout, env.Policy.Hooks.PostRollout
	switch ro.Phase {
	case rollout.Succeeded:
	case rollout.RolledBack, rollout.Aborted, rollout.Failed:
		point, names = hook.OnRollback, env.Policy.Hooks.OnRollback
	default:
		return // superseded: the newer rollout's hooks run
	}
	rev, _ := d.Gates.Rollouts.GetRevision(ctx, ro.App, ro.Env, ro.ToRevision)
	p := hook.Payload{Point: point, App: ro.App, Env: ro.Env, Version: rev.Version, Actor: ro.Actor, RolloutID: ro.ID, Phase: ro.Phase.String(), At: d.Gates.now()}
	for _, o := range d.Hooks.RunAll(ctx, app, names, p) {
		e := rollout.Event{Time: d.Gates.now(), App: ro.App, Env: ro.Env, RolloutID: ro.ID, Type: rollout.Normal, Reason: rollout.ReasonHookRan,
			Message: fmt.Sprintf("%s hook %s: %s", point, o.Name, o.Detail), Actor: "gantry", Details: &rollout.Details{Version: rev.Version}}
		if o.Err != nil {
			e.Type, e.Reason, e.Message = rollout.Warning, rollout.ReasonHookFailed, fmt.Sprintf("%s hook failed: %v", point, o.Err)
			e.Details.Error = o.Err.Error()
		}
		d.Gates.Rollouts.AppendEvent(ctx, e)
	}
}

// WaitRollout reads rollout id every poll (0: 250ms) until done says it
// is what the caller waits for, or it is final; it returns the rollout as
// last read.
func WaitRollout(ctx context.Context, s rollout.Store, id int64, poll time.Duration, done func(rollout.Rollout) bool) (rollout.Rollout, error) {
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		ro, err := s.GetRollout(ctx, id)
		if err != nil && !errors.Is(err, context.Canceled) {
			return ro, fmt.Errorf("read rollout %d: %w", id, err)
		}
		if err == nil && (done(ro) || ro.Phase.Final()) {
			return ro, nil
		}
		select {
		case <-ctx.Done():
			return ro, ctx.Err()
		case <-t.C:
		}
	}
}

func (g *Gatekeeper) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// describe renders a rollout's end for stage reasons.
func describe(ro rollout.Rollout) string {
	msg := strings.TrimSpace(ro.Message)
	if msg == "" {
		return fmt.Sprintf("rollout %d is %s", ro.ID, ro.Phase)
	}
	return fmt.Sprintf("rollout %d is %s (%s): %s", ro.ID, ro.Phase, ro.Reason, msg)
}
