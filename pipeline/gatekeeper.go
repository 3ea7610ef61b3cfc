package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gantry-dev/gantry/gate"
	"github.com/gantry-dev/gantry/hook"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// HookRunner runs an app's named hooks (hook.Runner).
type HookRunner interface {
	RunAll(ctx context.Context, app *spec.App, names []string, p hook.Payload) []gate.HookOutcome
}

// MigrationsFunc validates the migrations of an app's database as env
// resolves it and returns how many scripts it found; it is called only
// when the resolved spec declares a database.
type MigrationsFunc func(ctx context.Context, app, env string, s spec.AppSpec) (scripts int, err error)

// AlertsFunc tells what alert rules watch app in env. The monitoring side
// fills it; nil: the alert rules gate reports that no source is wired.
type AlertsFunc func(ctx context.Context, app spec.App, env string) gate.AlertFact

// Gatekeeper gathers the facts of a deploy and runs the gates on them.
type Gatekeeper struct {
	// Rollouts reads apps, revisions and rollouts; required.
	Rollouts rollout.Store
	// Store reads approvals; required.
	Store Store
	// Hooks runs pre-rollout hooks; nil: none run, and a policy naming
	// pre-rollout hooks fails their gates.
	Hooks HookRunner
	// Migrations validates migrations; nil: the gate says they were not
	// validated, and passes.
	Migrations MigrationsFunc
	// Alerts says what alert rules watch the app; nil: unknown.
	Alerts AlertsFunc
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Request is one deploy to check.
type Request struct {
	App, Env, Version string
	// Actor is who asks (the token's name); the approval gate does not
	// count their own approval.
	Actor string
	// Override is the emergency override's reason; empty: none.
	Override string
	// DryRun tells hooks nothing will be deployed.
	DryRun bool
}

// ErrRefused is wrapped by the error of a deploy a gate refuses.
var ErrRefused = errors.New("refused by a gate")

// Check gathers the facts of req and runs every gate. The error is for
// facts that could not be read (an unknown app or environment wraps
// rollout.ErrInvalid); a refusal is a Checklist that has not Passed.
func (g *Gatekeeper) Check(ctx context.Context, req Request) (gate.Checklist, error) {
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	rec, err := g.Rollouts.GetApp(ctx, req.App)
	if errors.Is(err, rollout.ErrNotFound) {
		return nil, fmt.Errorf("%w: app %q is not applied: run gantry apply -f gantry.yaml first", rollout.ErrInvalid, req.App)
	}
	if err != nil {
		return nil, fmt.Errorf("load app %q: %w", req.App, err)
	}
	app := rec.Spec
	env, ok := app.Environment(req.Env)
	if !ok {
		return nil, fmt.Errorf("%w: app %s has no environment %q; its environments are %v", rollout.ErrInvalid, req.App, req.Env, app.EnvironmentNames())
	}
	f := gate.Facts{Version: req.Version, Requester: req.Actor, Now: now(), Env: env, Override: req.Override}
	if env.PromoteFrom != "" {
		if f.Proof, err = g.proof(ctx, &app, env.PromoteFrom, req.Version); err != nil {
			return nil, err
		}
	}
	if env.Policy != nil && env.Policy.Approval != nil {
		if f.Approvals, err = g.Store.ListApprovals(ctx, req.App, req.Env, req.Version); err != nil {
			return nil, err
		}
	}
	if f.Stable, f.StableVersion, err = StableRevision(ctx, g.Rollouts, req.App, req.Env); err != nil {
		return nil, err
	}
	resolved, err := app.Resolve(req.Env)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", rollout.ErrInvalid, err)
	}
	if resolved.Database != nil {
		f.HasDatabase = true
		if g.Migrations != nil {
			f.Migrations, f.MigrationsErr = g.Migrations(ctx, req.App, req.Env, resolved)
		} else {
			f.HasDatabase = false
		}
	}
	if g.Alerts != nil {
		f.Alerts = g.Alerts(ctx, app, req.Env)
	}
	if env.Policy != nil && len(env.Policy.Hooks.PreRollout) > 0 {
		p := hook.Payload{Point: hook.PreRollout, App: req.App, Env: req.Env, Version: req.Version, Actor: req.Actor, DryRun: req.DryRun, At: f.Now}
		if g.Hooks == nil {
			for _, n := range env.Policy.Hooks.PreRollout {
				f.Hooks = append(f.Hooks, gate.HookOutcome{Name: n, Err: fmt.Errorf("hook %s: this server runs no hooks", n)})
			}
		} else {
			f.Hooks = g.Hooks.RunAll(ctx, &app, env.Policy.Hooks.PreRollout, p)
		}
	}
	return gate.Evaluate(f), nil
}

// StableRevision returns the revision serving app in env (0 when none)
// and its version.
func StableRevision(ctx context.Context, s rollout.Store, app, env string) (int, string, error) {
	latest, err := s.ListRollouts(ctx, rollout.RolloutFilter{App: app, Env: env, Limit: 1})
	if err != nil {
		return 0, "", fmt.Errorf("read rollouts of %s in %s: %w", app, env, err)
	}
	if len(latest) == 0 || latest[0].Stable() == 0 {
		return 0, "", nil
	}
	n := latest[0].Stable()
	rev, err := s.GetRevision(ctx, app, env, n)
	if err != nil {
		return 0, "", fmt.Errorf("read revision %d of %s in %s: %w", n, app, env, err)
	}
	return n, rev.Version, nil
}

// proof finds the newest rollout in from that succeeded with version.
func (g *Gatekeeper) proof(ctx context.Context, app *spec.App, from, version string) (gate.Proof, error) {
	p, _, err := FindProof(ctx, g.Rollouts, app, from, version)
	return p, err
}

// FindProof returns the proof that version succeeded in env from with
// app's current spec, and the revision that proves it (zero Revision: none).
func FindProof(ctx context.Context, s rollout.Store, app *spec.App, from, version string) (gate.Proof, rollout.Revision, error) {
	p := gate.Proof{From: from}
	want, err := app.Resolve(from)
	if err != nil {
		return p, rollout.Revision{}, fmt.Errorf("%w: %v", rollout.ErrInvalid, err)
	}
	wantDigest := SpecDigest(want)
	ros, err := s.ListRollouts(ctx, rollout.RolloutFilter{App: app.Metadata.Name, Env: from})
	if err != nil {
		return p, rollout.Revision{}, fmt.Errorf("read rollouts of %s in %s: %w", app.Metadata.Name, from, err)
	}
	for _, ro := range ros {
		if ro.Phase != rollout.Succeeded {
			continue
		}
		rev, err := s.GetRevision(ctx, app.Metadata.Name, from, ro.ToRevision)
		if errors.Is(err, rollout.ErrNotFound) {
			continue // pruned by revisionHistoryLimit
		}
		if err != nil {
			return p, rollout.Revision{}, fmt.Errorf("read revision %d of %s in %s: %w", ro.ToRevision, app.Metadata.Name, from, err)
		}
		if rev.Version != version {
			continue
		}
		if d := SpecDigest(rev.Spec); d != wantDigest {
			if p.Revision == 0 {
				p.Revision, p.SpecChanged, p.Digest, p.SucceededAt = rev.Number, true, d, ro.FinishedAt
			}
			continue
		}
		return gate.Proof{From: from, Revision: rev.Number, Digest: wantDigest, SucceededAt: ro.FinishedAt}, rev, nil
	}
	return p, rollout.Revision{}, nil
}

// SpecDigest is "sha256:" and the hex SHA-256 of a resolved spec's JSON:
// two revisions with the same digest run the same spec.
func SpecDigest(s spec.AppSpec) string {
	b, _ := json.Marshal(s) // an AppSpec always encodes
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
