package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/audit"
	"github.com/gantry-dev/gantry/gate"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// PerfFunc runs an environment's performance test against its preview
// and its stable revision.
type PerfFunc func(ctx context.Context, app, env string, p spec.PerfTest) (PerfResult, error)

// Runner carries out pipeline runs, one goroutine per run, storing the run
// after every change so that Resume continues it after a restart.
type Runner struct {
	Deployer *Deployer
	Store    Store
	// Events is where stage events go (the audited store); required.
	Events rollout.Store
	// Audit records every stage's result; nil: only the events do (a
	// failed stage is a Warning and is audited through Events).
	Audit *audit.Log
	// Perf runs perf stages; nil: they fail, saying so.
	Perf PerfFunc
	// Poll is how often waits read the store; 0: 250ms.
	Poll time.Duration
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Background is the context runs started by Start live in (the
	// leading server's lifetime); nil: context.Background().
	Background context.Context
	// DefaultApproval says whether an environment without
	// policy.approval still needs one approval by someone other than the
	// requester before a run deploys there (auth.Policy.NeedsApproval:
	// production by default); nil: no.
	DefaultApproval func(env string) bool

	mu      sync.Mutex
	running map[int64]context.CancelFunc
	wg      sync.WaitGroup
}

// ErrRunning is wrapped by Start's error when a run of the app is active.
var ErrRunning = errors.New("a pipeline run of this app is in progress")

// Start plans and stores a run of version through app's environments and
// carries it out in the background (until Background ends).
func (r *Runner) Start(ctx context.Context, app, version, actor, override string) (Run, error) {
	if err := rollout.CheckVersion(version); err != nil {
		return Run{}, err
	}
	rec, err := r.Events.GetApp(ctx, app)
	if errors.Is(err, rollout.ErrNotFound) {
		return Run{}, fmt.Errorf("%w: app %q is not applied: run gantry apply -f gantry.yaml first", rollout.ErrInvalid, app)
	}
	if err != nil {
		return Run{}, fmt.Errorf("load app %q: %w", app, err)
	}
	active, err := r.Store.ListRuns(ctx, app, true)
	if err != nil {
		return Run{}, err
	}
	if len(active) > 0 {
		return Run{}, fmt.Errorf("%w: run %d (version %s); wait for it or cancel it with gantry pipeline cancel %s", ErrRunning, active[0].ID, active[0].Version, app)
	}
	stages, err := Plan(&rec.Spec, r.DefaultApproval)
	if err != nil {
		return Run{}, err
	}
	now := r.now()
	run, err := r.Store.CreateRun(ctx, Run{App: app, Version: version, Actor: actor, Override: override, State: RunRunning,
		Stages: stages, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return Run{}, err
	}
	bg := r.Background
	if bg == nil {
		bg = context.Background()
	}
	r.launch(bg, run)
	return run, nil
}

// Resume carries on every stored run that has not ended (after a restart
// or a change of leader), in the background until ctx ends.
func (r *Runner) Resume(ctx context.Context) error {
	runs, err := r.Store.ListRuns(ctx, "", true)
	if err != nil {
		return fmt.Errorf("resume pipeline runs: %w", err)
	}
	for _, run := range runs {
		r.launch(ctx, run)
	}
	return nil
}

// Cancel ends an active run: it stops at its current stage, which is
// marked failed, and the run is Cancelled. Rollouts it started go on.
func (r *Runner) Cancel(ctx context.Context, id int64, actor string) (Run, error) {
	r.mu.Lock()
	stop := r.running[id]
	r.mu.Unlock()
	if stop != nil {
		stop()
	}
	r.wait(id)
	run, err := r.Store.GetRun(ctx, id)
	if err != nil || run.State.Final() {
		return run, err
	}
	i := run.Current()
	if i < len(run.Stages) {
		r.finishStage(ctx, &run, i, StageFailed, "cancelled by "+actor)
	}
	r.end(ctx, &run, RunCancelled, "cancelled by "+actor)
	return run, nil
}

// Wait blocks until every run this Runner carries out has stopped.
func (r *Runner) Wait() { r.wg.Wait() }

func (r *Runner) launch(ctx context.Context, run Run) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running == nil {
		r.running = map[int64]context.CancelFunc{}
	}
	if _, ok := r.running[run.ID]; ok {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	r.running[run.ID] = cancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer func() {
			r.mu.Lock()
			delete(r.running, run.ID)
			r.mu.Unlock()
			cancel()
		}()
		r.carryOut(ctx, run)
	}()
}

// wait blocks until run id's goroutine has stopped.
func (r *Runner) wait(id int64) {
	for {
		r.mu.Lock()
		_, ok := r.running[id]
		r.mu.Unlock()
		if !ok {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// carryOut runs the stages from the current one until the run ends or
// ctx does (a stopping server: the run stays Running for Resume).
func (r *Runner) carryOut(ctx context.Context, run Run) {
	for {
		i := run.Current()
		if i == len(run.Stages) {
			r.end(ctx, &run, RunSucceeded, fmt.Sprintf("version %s went through %d stage(s)", run.Version, len(run.Stages)))
			return
		}
		if run.Stages[i].Status == StagePending {
			r.startStage(ctx, &run, i)
		}
		status, reason := r.stage(ctx, &run, i)
		if ctx.Err() != nil {
			return
		}
		r.finishStage(ctx, &run, i, status, reason)
		if status == StageFailed {
			r.end(ctx, &run, RunFailed, run.Stages[i].Name()+": "+reason)
			return
		}
	}
}

// stage carries out stage i and returns how it ended.
func (r *Runner) stage(ctx context.Context, run *Run, i int) (StageStatus, string) {
	s := &run.Stages[i]
	rec, err := r.Events.GetApp(ctx, run.App)
	if err != nil {
		return StageFailed, fmt.Sprintf("load app %s: %v", run.App, err)
	}
	env, ok := rec.Spec.Environment(s.Env)
	if !ok {
		return StageFailed, fmt.Sprintf("environment %s is no longer in the applied spec", s.Env)
	}
	switch s.Kind {
	case StageApproval:
		return r.approval(ctx, run, i, env)
	case StageDeploy:
		return r.deploy(ctx, run, i)
	case StageSmoke:
		return r.smoke(ctx, run, i)
	case StagePerf:
		return r.perf(ctx, run, i, env)
	case StagePromote:
		return r.promote(ctx, run, i)
	}
	return StageFailed, fmt.Sprintf("unknown stage kind %q", s.Kind)
}

// approvalPolicy is the environment's approval policy; production without
// one has the default four-eyes rule: one approver, not the requester.
func approvalPolicy(env spec.Environment) gate.ApprovalPolicy {
	ap := spec.ApprovalPolicy{}
	if env.Policy != nil && env.Policy.Approval != nil {
		ap = *env.Policy.Approval
	}
	return gate.ApprovalPolicy{Count: ap.Count(), Expiry: ap.ExpiryDuration(), AllowRequester: ap.AllowRequester}
}

func (r *Runner) approval(ctx context.Context, run *Run, i int, env spec.Environment) (StageStatus, string) {
	p := approvalPolicy(env)
	deadline := run.Stages[i].StartedAt.Add(p.Expiry)
	for {
		list, err := r.Store.ListApprovals(ctx, run.App, env.Name, run.Version)
		if err != nil {
			return StageFailed, err.Error()
		}
		res := gate.CheckApprovals(p, run.Actor, list, r.now())
		if res.Status == gate.Pass {
			run.Stages[i].Actor = approvers(p, run.Actor, list)
			return StagePassed, res.Reason
		}
		if r.now().After(deadline) {
			return StageFailed, fmt.Sprintf("no approval within %s: %s", p.Expiry, res.Reason)
		}
		if run.Stages[i].Reason != "waiting: "+res.Reason {
			run.Stages[i].Reason = "waiting: " + res.Reason
			r.save(ctx, run)
		}
		if !r.sleep(ctx) {
			return StageFailed, "stopped"
		}
	}
}

// approvers names the approvals that count, comma-separated.
func approvers(p gate.ApprovalPolicy, requester string, list []gate.Approval) string {
	var names []string
	for _, a := range list {
		if (p.AllowRequester || !strings.EqualFold(a.Approver, requester)) && !contains(names, a.Approver) {
			names = append(names, a.Approver)
		}
	}
	return strings.Join(names, ", ")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func (r *Runner) deploy(ctx context.Context, run *Run, i int) (StageStatus, string) {
	s := &run.Stages[i]
	if s.RolloutID == 0 {
		out, err := r.Deployer.Deploy(ctx, Request{App: run.App, Env: s.Env, Version: run.Version, Actor: run.Actor, Override: run.Override})
		s.Checklist = out.Checklist
		if err != nil {
			return StageFailed, err.Error()
		}
		s.RolloutID = out.Rollout.ID
		for j := i + 1; j < len(run.Stages) && run.Stages[j].Env == s.Env; j++ {
			run.Stages[j].RolloutID = s.RolloutID
		}
		r.save(ctx, run)
	}
	ro, err := WaitRollout(ctx, r.Events, s.RolloutID, r.Poll, waitsForPromotion)
	if err != nil {
		return StageFailed, err.Error()
	}
	switch {
	case ro.Phase == rollout.Succeeded:
		return StagePassed, describe(ro)
	case waitsForPromotion(ro):
		return StagePassed, fmt.Sprintf("rollout %d: the new revision is up on the preview and waits for promotion", ro.ID)
	case ro.Reason == rollout.ReasonSmokeTestFailed && r.hasStage(run, s.Env, StageSmoke):
		return StagePassed, fmt.Sprintf("rollout %d deployed the new revision; its smoke tests decide (next stage)", ro.ID)
	}
	return StageFailed, describe(ro)
}

// waitsForPromotion says whether a rollout holds a new revision on its
// preview until promoted (blue-green without autoPromotion).
func waitsForPromotion(ro rollout.Rollout) bool {
	return ro.Phase == rollout.Paused && ro.Strategy == spec.BlueGreen
}

func (r *Runner) hasStage(run *Run, env string, k StageKind) bool {
	for _, s := range run.Stages {
		if s.Env == env && s.Kind == k {
			return true
		}
	}
	return false
}

func (r *Runner) smoke(ctx context.Context, run *Run, i int) (StageStatus, string) {
	id := run.Stages[i].RolloutID
	evs, err := r.Events.ListEvents(ctx, rollout.EventFilter{RolloutID: id})
	if err != nil {
		return StageFailed, fmt.Sprintf("read events of rollout %d: %v", id, err)
	}
	for _, e := range evs {
		switch e.Reason {
		case rollout.ReasonSmokeTestsPassed:
			return StagePassed, e.Message
		case rollout.ReasonSmokeTestFailed:
			return StageFailed, e.Message + "; the new revision never got traffic and was rolled back"
		}
	}
	if skip, why := r.firstRelease(ctx, id); skip {
		return StageSkipped, why
	}
	return StageFailed, fmt.Sprintf("rollout %d recorded no smoke test result", id)
}

// firstRelease says whether rollout id is an environment's first release,
// which a blue-green strategy puts in service at once: there is no stable
// revision to test the new one beside.
func (r *Runner) firstRelease(ctx context.Context, id int64) (bool, string) {
	ro, err := r.Events.GetRollout(ctx, id)
	if err != nil || ro.Phase != rollout.Succeeded || ro.FromRevision != 0 {
		return false, ""
	}
	return true, fmt.Sprintf("rollout %d is the environment's first release: it serves at once, with no stable revision to test it beside", id)
}

func (r *Runner) perf(ctx context.Context, run *Run, i int, env spec.Environment) (StageStatus, string) {
	s := &run.Stages[i]
	if skip, why := r.firstRelease(ctx, s.RolloutID); skip {
		return StageSkipped, why
	}
	if r.Perf == nil {
		return StageFailed, "this server runs no performance tests"
	}
	res, err := r.Perf(ctx, run.App, s.Env, *env.Policy.PerfTest)
	if err != nil {
		r.abort(ctx, run, s, "performance test could not run: "+err.Error())
		return StageFailed, "performance test: " + err.Error()
	}
	s.Perf = &res
	verdict := JudgePerf(res)
	if !verdict.Passed {
		r.abort(ctx, run, s, verdict.Reason)
		return StageFailed, verdict.Reason + "; the rollout was aborted, so the new revision never got traffic"
	}
	return StagePassed, verdict.Reason
}

// abort ends the stage's rollout and waits until it has rolled back.
func (r *Runner) abort(ctx context.Context, run *Run, s *Stage, why string) {
	if _, err := r.Deployer.Engine.Abort(ctx, rollout.CommandRequest{App: run.App, Env: s.Env, Actor: run.Actor, Why: why}); err != nil {
		return
	}
	WaitRollout(ctx, r.Events, s.RolloutID, r.Poll, func(rollout.Rollout) bool { return false })
}

func (r *Runner) promote(ctx context.Context, run *Run, i int) (StageStatus, string) {
	s := &run.Stages[i]
	ro, err := r.Events.GetRollout(ctx, s.RolloutID)
	if err != nil {
		return StageFailed, err.Error()
	}
	if waitsForPromotion(ro) {
		if _, err := r.Deployer.Engine.Promote(ctx, rollout.CommandRequest{App: run.App, Env: s.Env, Actor: run.Actor,
			Why: fmt.Sprintf("pipeline run %d", run.ID)}, true); err != nil {
			return StageFailed, fmt.Sprintf("promote rollout %d: %v", ro.ID, err)
		}
	}
	ro, err = WaitRollout(ctx, r.Events, s.RolloutID, r.Poll, func(rollout.Rollout) bool { return false })
	if err != nil {
		return StageFailed, err.Error()
	}
	if ro.Phase == rollout.Succeeded {
		return StagePassed, describe(ro)
	}
	return StageFailed, describe(ro)
}

func (r *Runner) sleep(ctx context.Context) bool {
	poll := r.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	t := time.NewTimer(poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
