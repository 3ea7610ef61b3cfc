package rollout

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/analysis"
	"github.com/gantry-dev/gantry/spec"
)

// advance moves an active rollout one step.
func (e *Engine) advance(ctx context.Context, r Rollout) error {
	switch r.Phase {
	case Pending:
		if need, err := e.needsMigration(ctx, r); err != nil || need {
			if err != nil {
				return err
			}
			return e.startMigrating(ctx, r)
		}
		_, err := e.transition(ctx, r, Progressing, ReasonRolloutStarted,
			fmt.Sprintf("rolling out revision %d (from revision %d) with %s", r.ToRevision, r.FromRevision, r.Strategy), Normal)
		return err
	case Progressing:
		return e.progressing(ctx, r)
	case RollingBack:
		return e.rollingBack(ctx, r)
	case Paused:
		return e.progressing(ctx, r)
	case Migrating:
		return e.migrating(ctx, r)
	}
	return fmt.Errorf("rollout %d: no handling for phase %s", r.ID, r.Phase)
}

func (e *Engine) progressing(ctx context.Context, r Rollout) error {
	target, err := e.revision(ctx, r.App, r.Env, r.ToRevision)
	if err != nil {
		return err
	}
	strategy, ok := e.opts.Strategies[r.Strategy]
	if !ok {
		_, err := e.transition(ctx, r, RollingBack, ReasonUnknownStrategy,
			fmt.Sprintf("this gantry has no %q strategy", r.Strategy), Warning)
		return err
	}
	now := e.opts.Now()
	instances := e.opts.Backend.Instances(r.App, r.Env)
	counts := CountInstances(instances, now, target.Spec.MinReady())

	e.cache.Lock()
	startErr, unstartable := e.unstartable[revisionKey{r.App, r.Env, r.ToRevision}]
	e.cache.Unlock()
	if err := startErr; unstartable {
		_, err := e.move(ctx, r, RollingBack, fact{Type: Warning, Reason: ReasonInstanceStartFailed,
			Message: fmt.Sprintf("revision %d (%s) cannot start, so it is not retried: %v", target.Number, target.Version, err)})
		return err
	}
	if v := CheckHealth(HealthInput{
		Now: now, Rollout: r, Target: target, Instances: instances,
		CrashLoopRestarts: e.opts.CrashLoopRestarts,
	}); v.Rollback && !(r.Phase == Paused && v.Reason == ReasonProgressDeadlineExceeded) {
		_, err := e.move(ctx, r, RollingBack, fact{Type: Warning, Reason: v.Reason, Message: v.Message, Details: v.Details})
		return err
	}
	planSpec, fallback := e.effectiveSpec(r.App, r.Env, target.Spec)
	if planSpec, err = e.heldSpec(ctx, r.App, r.Env, planSpec); err != nil {
		return err
	}
	desc := strategy.Describe(planSpec)
	var verdict AnalysisResult
	if desc.Analysis {
		v, observed, err := e.analyze(ctx, r, target, instances, now, desc.Baseline)
		if err != nil {
			return err
		}
		if observed && v.Action == analysis.Rollback {
			_, err := e.move(ctx, r, RollingBack, fact{Type: Warning, Reason: AnalysisReason(v), Message: verdictMessage(v),
				Details: &Details{Analysis: v.Reasons}})
			return err
		}
		prefix := e.noteFallback(ctx, r, fallback)
		e.cache.Lock()
		verdict = e.analyses[r.ID].result
		e.cache.Unlock()
		verdict.Message = prefix + verdict.Message
	}

	watchedSince, exited := e.watchedSince(r, instances, now)
	plan := strategy.Plan(PlanInput{
		Now: now, Spec: planSpec, Target: r.ToRevision, Stable: r.FromRevision,
		Step: r.Step, StepStartedAt: r.StepStartedAt, Revisions: counts, Analysis: verdict,
		WatchedSince: watchedSince, TargetExited: exited,
		Baseline: CountGroup(instances, r.FromRevision, GroupBaseline, now, target.Spec.MinReady()),
	})
	if r.Phase == Paused {
		// Paused: hold every revision's instances where they are and
		// traffic where the plan has it, and watch; only promote or resume
		// moves on.
		plan.Step, plan.Complete, plan.SmokeTests = r.Step, false, false
		plan.Replicas = map[int]int{}
		for _, c := range counts {
			plan.Replicas[c.Revision] = c.Total
		}
		plan.Baseline = CountGroup(instances, r.FromRevision, GroupBaseline, now, 0).Total
		if plan.Message != r.Message && plan.Message != "" {
			// Keep the status current: the analysis goes on while paused.
			r.Message, r.UpdatedAt = plan.Message, now
			stored, err := e.opts.Store.UpdateRollout(ctx, r)
			if err != nil {
				return fmt.Errorf("rollout %d (%s/%s): record analysis while paused: %w", r.ID, r.App, r.Env, err)
			}
			r = stored
		}
		return e.act(ctx, r, plan)
	}

	if plan.Complete {
		r, err = e.transition(ctx, r, Succeeded, ReasonRolloutSucceeded,
			fmt.Sprintf("revision %d (%s) serves all traffic: %s", target.Number, target.Version, plan.Message), Normal)
		if err != nil {
			return err
		}
		if err := e.pruneHistory(ctx, r, target.Spec.HistoryLimit()); err != nil {
			e.opts.Logf("prune revisions: %v", err)
		}
		return e.act(ctx, r, plan)
	}
	if plan.Pause {
		r.Message = plan.Message
		r, err = e.move(ctx, r, Paused, fact{Type: Normal, Reason: ReasonPauseStep, Message: plan.Message, Details: &Details{Step: r.Step}})
		if err != nil {
			return err
		}
		return e.act(ctx, r, plan)
	}
	if plan.SmokeTests {
		if err := e.act(ctx, r, plan); err != nil {
			return err
		}
		return e.smokeTest(ctx, r, target)
	}
	if plan.SetFlag != nil {
		// The step changes no instance or traffic: the flag, then the next step.
		return e.setFlag(ctx, r, *plan.SetFlag)
	}

	changed := false
	if e.progressed(r.ID, r.ToRevision, counts) {
		r.LastProgressAt, changed = now, true
	}
	if plan.Step != r.Step {
		e.record(ctx, r, 0, 0, fact{Type: Normal, Reason: ReasonStepCompleted, Message: plan.Message, Details: &Details{Step: plan.Step}})
		r.Step, r.StepStartedAt, r.LastProgressAt, changed = plan.Step, now, now, true
	}
	if plan.Message != r.Message {
		r.Message, changed = plan.Message, true
	}
	if desc.Analysis && plan.Step == r.Step && !changed {
		// A rollout whose instances are all up, holding for evidence or
		// waiting out a pause, is not stuck: the deadline is for instances.
		up := (PlanInput{Revisions: counts}).Count(r.ToRevision).Available >= plan.Replicas[r.ToRevision]
		if up && now.Sub(r.LastProgressAt) > target.Spec.ProgressDeadline()/2 {
			r.LastProgressAt, changed = now, true
		}
	}
	if changed {
		r.UpdatedAt = now
		stored, err := e.opts.Store.UpdateRollout(ctx, r)
		if err != nil {
			// r keeps its ID: a failed write returns no rollout.
			return fmt.Errorf("rollout %d (%s/%s): record progress: %w", r.ID, r.App, r.Env, err)
		}
		r = stored
	}
	return e.act(ctx, r, plan)
}

// watchedSince is when this engine began watching r's current step with
// the target's instances as they are (PlanInput.WatchedSince): now while
// one of them backs off, since nothing of it can be watched. exited says
// one of them exited during the step (PlanInput.TargetExited); an
// instance's recorded exit counts even if an earlier server saw it.
func (e *Engine) watchedSince(r Rollout, instances []Instance, now time.Time) (since time.Time, exited bool) {
	since = e.started
	if r.StepStartedAt.After(since) {
		since = r.StepStartedAt
	}
	for _, in := range instances {
		if in.Revision != r.ToRevision || in.State == Terminating {
			continue
		}
		if in.StartedAt.After(since) {
			since = in.StartedAt
		}
		if in.State == BackingOff {
			since = now
		}
		exited = exited || in.Restarts > 0 && !in.LastExitAt.Before(r.StepStartedAt)
	}
	return since, exited
}

// smokeTest runs the target's smoke tests and moves the rollout on when
// they pass, or rolls it back when one fails.
func (e *Engine) smokeTest(ctx context.Context, r Rollout, target Revision) error {
	if e.opts.SmokeTests == nil {
		e.event(ctx, r, Warning, ReasonSmokeTestsSkipped, "this gantry runs no smoke tests", "gantry")
		return e.nextStep(ctx, r, "no smoke tests run")
	}
	results, err := e.opts.SmokeTests.SmokeTest(ctx, target)
	if err != nil {
		_, terr := e.move(ctx, r, RollingBack, fact{Type: Warning, Reason: ReasonSmokeTestFailed,
			Message: "smoke tests could not run: " + err.Error(), Details: &Details{Error: err.Error()}})
		return terr
	}
	var passed []string
	for _, res := range results {
		if !res.Passed {
			_, err := e.move(ctx, r, RollingBack, fact{Type: Warning, Reason: ReasonSmokeTestFailed,
				Message: fmt.Sprintf("smoke test %q against revision %d (%s) failed: %s", res.Name, target.Number, target.Version, res.Detail),
				Details: &Details{SmokeTests: results}})
			return err
		}
		passed = append(passed, res.Name+": "+res.Detail)
	}
	msg := fmt.Sprintf("%d smoke test(s) passed", len(results))
	if len(passed) > 0 {
		msg += " (" + strings.Join(passed, "; ") + ")"
	}
	e.record(ctx, r, 0, 0, fact{Type: Normal, Reason: ReasonSmokeTestsPassed, Message: msg, Details: &Details{SmokeTests: results}})
	return e.nextStep(ctx, r, msg)
}

// setFlag sets a feature flag for a setFlag step and moves r to its next
// step; a flag that cannot be set rolls r back.
func (e *Engine) setFlag(ctx context.Context, r Rollout, f FlagSetting) error {
	if e.opts.Flags == nil {
		e.event(ctx, r, Warning, ReasonFlagSkipped, fmt.Sprintf("this gantry sets no feature flags: setFlag %s %g%% skipped", f.Name, f.Percentage), "gantry")
		return e.nextStep(ctx, r, "setFlag skipped")
	}
	if err := e.opts.Flags.SetFlag(ctx, r, f.Name, f.Percentage); err != nil {
		_, terr := e.move(ctx, r, RollingBack, fact{Type: Warning, Reason: ReasonFlagFailed,
			Message: fmt.Sprintf("setFlag %s %g%%: %v", f.Name, f.Percentage, err), Details: &Details{Error: err.Error()}})
		return terr
	}
	msg := fmt.Sprintf("flag %s set to %g%% in %s", f.Name, f.Percentage, r.Env)
	e.record(ctx, r, 0, 0, fact{Type: Normal, Reason: ReasonFlagSet, Message: msg})
	return e.nextStep(ctx, r, msg)
}

// nextStep records that r moves to its next step.
func (e *Engine) nextStep(ctx context.Context, r Rollout, message string) error {
	now := e.opts.Now()
	r.Step++
	r.StepStartedAt, r.LastProgressAt, r.UpdatedAt, r.Message = now, now, now, message
	if _, err := e.opts.Store.UpdateRollout(ctx, r); err != nil {
		return fmt.Errorf("rollout %d: next step: %w", r.ID, err)
	}
	return nil
}

// progressed reports whether the target gained instances or available ones,
// or old instances went away, since the last reconcile.
func (e *Engine) progressed(id int64, target int, counts []RevisionCount) bool {
	var m progressMark
	for _, c := range counts {
		if c.Revision == target {
			m.total, m.available = c.Total, c.Available
		} else {
			m.old += c.Total
		}
	}
	e.cache.Lock()
	prev, seen := e.progress[id]
	e.progress[id] = m
	e.cache.Unlock()
	if !seen {
		return false
	}
	return m.available > prev.available || m.total > prev.total || m.old < prev.old
}

// rollingBack returns instances and traffic to the stable revision. The
// stable revision gets all traffic as soon as it has a ready instance.
func (e *Engine) rollingBack(ctx context.Context, r Rollout) error {
	now := e.opts.Now()
	if e.opts.Flags != nil {
		restored, err := e.opts.Flags.RestoreFlags(ctx, r)
		if err != nil {
			return fmt.Errorf("rollout %d: restore feature flags: %w", r.ID, err)
		}
		for _, name := range restored {
			e.record(ctx, r, 0, 0, fact{Type: Normal, Reason: ReasonFlagRestored,
				Message: fmt.Sprintf("flag %s in %s is back to its value before rollout %d", name, r.Env, r.ID)})
		}
	}
	if r.FromRevision == 0 {
		// Nothing to go back to: stop the new revision.
		left := 0
		for _, in := range e.opts.Backend.Instances(r.App, r.Env) {
			if in.Revision == r.ToRevision {
				left++
			}
		}
		if left == 0 {
			_, err := e.move(ctx, r, rollbackEnd(r), fact{Type: Warning, Reason: r.Reason,
				Message: r.Message + "; no earlier revision exists, so nothing serves", Details: r.Details})
			return err
		}
		return e.act(ctx, r, Plan{Replicas: map[int]int{}})
	}
	stable, err := e.revision(ctx, r.App, r.Env, r.FromRevision)
	if err != nil {
		return err
	}
	stableSpec, err := e.heldSpec(ctx, r.App, r.Env, stable.Spec)
	if err != nil {
		return err
	}
	counts := CountInstances(e.opts.Backend.Instances(r.App, r.Env), now, stable.Spec.MinReady())
	plan := e.opts.Strategies[spec.RollingUpdate].Plan(PlanInput{
		Now: now, Spec: stableSpec, Target: r.FromRevision, Stable: r.ToRevision, Revisions: counts,
	})
	if (PlanInput{Revisions: counts}).Count(r.FromRevision).Ready > 0 {
		plan.Traffic = Traffic{Weights: map[int]int{r.FromRevision: 100}}
	}
	if plan.Complete {
		if r, err = e.move(ctx, r, rollbackEnd(r), fact{Type: Warning, Reason: r.Reason, Message: r.Message, Details: r.Details}); err != nil {
			return err
		}
		return e.act(ctx, r, plan)
	}
	if now.Sub(r.LastProgressAt) > stable.Spec.ProgressDeadline() {
		_, err := e.transition(ctx, r, Failed, ReasonRollbackStalled,
			fmt.Sprintf("rollback to revision %d did not finish within %s: %s (was: %s)",
				r.FromRevision, stable.Spec.ProgressDeadline(), plan.Message, r.Message), Warning)
		return err
	}
	if e.progressed(r.ID, r.FromRevision, counts) {
		r.LastProgressAt, r.UpdatedAt = now, now
		stored, err := e.opts.Store.UpdateRollout(ctx, r)
		if err != nil {
			// r keeps its ID: a failed write returns no rollout.
			return fmt.Errorf("rollout %d (%s/%s): record rollback progress: %w", r.ID, r.App, r.Env, err)
		}
		r = stored
	}
	return e.act(ctx, r, plan)
}

// pruneHistory deletes revisions beyond the history limit, keeping the
// stable one and any an active rollout uses.
func (e *Engine) pruneHistory(ctx context.Context, r Rollout, limit int) error {
	revs, err := e.opts.Store.ListRevisions(ctx, r.App, r.Env)
	if err != nil {
		return err
	}
	excess := len(revs) - 1 - limit
	var errs []string
	for _, rev := range revs {
		if excess <= 0 {
			break
		}
		if rev.Number == r.ToRevision || rev.Number == r.FromRevision {
			continue
		}
		if err := e.opts.Store.DeleteRevision(ctx, r.App, r.Env, rev.Number); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		e.cache.Lock()
		delete(e.revisions, revisionKey{r.App, r.Env, rev.Number})
		e.cache.Unlock()
		excess--
	}
	if len(errs) > 0 {
		return fmt.Errorf("delete old revisions: %s", strings.Join(errs, "; "))
	}
	return nil
}

// CountInstances counts each revision's primary instances, ignoring
// terminating ones (CountGroup counts another group).
func CountInstances(instances []Instance, now time.Time, minReady time.Duration) []RevisionCount {
	var out []RevisionCount
	idx := map[int]int{}
	for _, in := range instances {
		if in.State == Terminating || in.Group != GroupPrimary {
			continue
		}
		i, ok := idx[in.Revision]
		if !ok {
			i = len(out)
			idx[in.Revision] = i
			out = append(out, RevisionCount{Revision: in.Revision})
		}
		out[i].Total++
		if in.Ready && in.State == Running {
			out[i].Ready++
		}
		if in.Available(now, minReady) {
			out[i].Available++
		}
	}
	return out
}

// rollbackEnd is the phase a finished rollback ends in: Aborted when a
// user aborted the rollout, RolledBack otherwise.
func rollbackEnd(r Rollout) Phase {
	if r.Reason == ReasonAborted {
		return Aborted
	}
	return RolledBack
}
