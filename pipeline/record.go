package pipeline

import (
	"context"
	"fmt"
	"strconv"

	"github.com/gantry-dev/gantry/audit"
	"github.com/gantry-dev/gantry/rollout"
)

// save stores the run; a store that fails leaves the run in memory, and
// the next save carries the change.
func (r *Runner) save(ctx context.Context, run *Run) {
	run.UpdatedAt = r.now()
	r.Store.UpdateRun(context.WithoutCancel(ctx), *run)
}

func (r *Runner) startStage(ctx context.Context, run *Run, i int) {
	s := &run.Stages[i]
	s.Status, s.StartedAt, s.Actor = StageRunning, r.now(), run.Actor
	r.save(ctx, run)
	r.event(ctx, run, s, rollout.ReasonStageStarted, rollout.Normal, fmt.Sprintf("pipeline run %d: %s started", run.ID, s.Name()))
}

func (r *Runner) finishStage(ctx context.Context, run *Run, i int, status StageStatus, reason string) {
	s := &run.Stages[i]
	s.Status, s.Reason, s.FinishedAt = status, reason, r.now()
	r.save(ctx, run)
	why, typ := rollout.ReasonStagePassed, rollout.Normal
	if status == StageFailed {
		why, typ = rollout.ReasonStageFailed, rollout.Warning
	}
	r.event(ctx, run, s, why, typ, fmt.Sprintf("pipeline run %d: %s %s in %s: %s", run.ID, s.Name(), status, s.Duration().Round(1e6), reason))
}

func (r *Runner) end(ctx context.Context, run *Run, state RunState, reason string) {
	run.State, run.Reason, run.FinishedAt = state, reason, r.now()
	r.save(ctx, run)
	last := Stage{Env: "", Kind: "run", Status: StageStatus(state), Reason: reason, StartedAt: run.CreatedAt, FinishedAt: run.FinishedAt}
	if n := len(run.Stages); n > 0 {
		last.Env = run.Stages[min(run.Current(), n-1)].Env
	}
	typ := rollout.Normal
	if state != RunSucceeded {
		typ = rollout.Warning
	}
	r.event(ctx, run, &last, rollout.ReasonPipelineEnded, typ, fmt.Sprintf("pipeline run %d of %s %s: %s", run.ID, run.App, state, reason))
}

// event appends a stage's event and, with an audit log, its audit record.
func (r *Runner) event(ctx context.Context, run *Run, s *Stage, reason rollout.Reason, typ rollout.EventType, msg string) {
	ctx = context.WithoutCancel(ctx)
	facts := &rollout.StageFacts{Run: run.ID, Kind: string(s.Kind), Status: string(s.Status), Version: run.Version,
		DurationMs: s.Duration().Milliseconds(), Reason: s.Reason}
	actor := s.Actor
	if actor == "" {
		actor = run.Actor
	}
	e, err := r.Events.AppendEvent(ctx, rollout.Event{Time: r.now(), App: run.App, Env: s.Env, RolloutID: s.RolloutID, Type: typ,
		Reason: reason, Message: msg, Actor: actor, Details: &rollout.Details{Stage: facts, Version: run.Version}})
	if r.Audit == nil || typ == rollout.Warning || err != nil {
		return // Warning events are audited by the audited store
	}
	r.Audit.Record(ctx, audit.Record{Time: e.Time, Actor: actor, Action: string(reason), App: run.App, Env: s.Env,
		Target: "pipeline run " + strconv.FormatInt(run.ID, 10), RolloutID: s.RolloutID, EventID: e.ID, Outcome: string(typ), Message: msg})
}
