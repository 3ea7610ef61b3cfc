package pipeline_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/pipeline"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
	"github.com/gantry-dev/gantry/store/sqlite"
)

// storeEngine starts rollouts as the engine does, in the store, and
// finishes each at once; it counts the deploys it was asked for.
type storeEngine struct {
	st      *sqlite.Store
	mu      sync.Mutex
	deploys []string // "env version"
}

func (e *storeEngine) Deploy(ctx context.Context, req rollout.DeployRequest) (rollout.Rollout, error) {
	e.mu.Lock()
	e.deploys = append(e.deploys, req.Env+" "+req.Version)
	e.mu.Unlock()
	rev, err := createRevision(ctx, e.st, req.App, req.Env, req.Version)
	if err != nil {
		return rollout.Rollout{}, err
	}
	now := time.Now()
	return e.st.CreateRollout(ctx, rollout.Rollout{App: req.App, Env: req.Env, Strategy: "rolling", ToRevision: rev.Number,
		Phase: rollout.Succeeded, Actor: req.Actor, CreatedAt: now, UpdatedAt: now, FinishedAt: now})
}

func (e *storeEngine) Promote(context.Context, rollout.CommandRequest, bool) (rollout.Rollout, error) {
	panic("no promote in this pipeline")
}

func (e *storeEngine) Abort(context.Context, rollout.CommandRequest) (rollout.Rollout, error) {
	panic("no abort in this pipeline")
}

// TestRunner_ResumeContinuesARun is a leader that stopped while a run
// waited for its staging rollout: the next leader waits for that same
// rollout (no second deploy to staging) and then deploys to production.
func TestRunner_ResumeContinuesARun(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "gantry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	app := spec.App{Metadata: spec.Metadata{Name: "web"},
		Environments: []spec.Environment{{Name: "staging"}, {Name: "production", PromoteFrom: "staging"}}}
	if err := st.PutApp(ctx, rollout.AppRecord{Name: "web", Spec: app}); err != nil {
		t.Fatal(err)
	}
	stages, err := pipeline.Plan(&app, nil)
	if err != nil {
		t.Fatal(err)
	}
	// What the earlier leader left: staging's rollout under way.
	eng := &storeEngine{st: st}
	rev, err := createRevision(ctx, st, "web", "staging", "v2")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	staging, err := st.CreateRollout(ctx, rollout.Rollout{App: "web", Env: "staging", Strategy: "rolling", ToRevision: rev.Number,
		Phase: rollout.Progressing, Actor: "alice", CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	stages[0].Status, stages[0].StartedAt, stages[0].RolloutID = pipeline.StageRunning, now, staging.ID
	run, err := st.CreateRun(ctx, pipeline.Run{App: "web", Version: "v2", Actor: "alice", State: pipeline.RunRunning,
		Stages: stages, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}

	bg, stop := context.WithCancel(ctx)
	defer stop()
	r := &pipeline.Runner{Store: st, Events: st, Background: bg, Poll: 10 * time.Millisecond,
		Deployer: &pipeline.Deployer{Gates: &pipeline.Gatekeeper{Rollouts: st, Store: st}, Engine: eng, Background: bg, Poll: 10 * time.Millisecond}}
	if err := r.Resume(bg); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the run waits on staging's rollout
	if got := storedRun(t, st, run.ID); got.State != pipeline.RunRunning || got.Stages[0].Status != pipeline.StageRunning {
		t.Fatalf("before staging's rollout ends: run %s, stage %s %s; want the run waiting on it", got.State, got.Stages[0].Name(), got.Stages[0].Status)
	}
	staging.Phase, staging.FinishedAt = rollout.Succeeded, time.Now()
	if _, err := st.UpdateRollout(ctx, staging); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	got := storedRun(t, st, run.ID)
	for got.State == pipeline.RunRunning && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		got = storedRun(t, st, run.ID)
	}
	r.Wait()
	if got.State != pipeline.RunSucceeded {
		t.Fatalf("run %s (%s), want Succeeded; stages %+v", got.State, got.Reason, got.Stages)
	}
	if got.Stages[0].RolloutID != staging.ID {
		t.Errorf("staging stage's rollout %d, want the one under way before the restart (%d)", got.Stages[0].RolloutID, staging.ID)
	}
	eng.mu.Lock()
	defer eng.mu.Unlock()
	if len(eng.deploys) != 1 || eng.deploys[0] != "production v2" {
		t.Errorf("deploys after the restart: %q, want only [production v2]", eng.deploys)
	}
}

// createRevision stores version as the next revision of app in env with
// the applied spec resolved for env, as the engine does.
func createRevision(ctx context.Context, st *sqlite.Store, app, env, version string) (rollout.Revision, error) {
	rec, err := st.GetApp(ctx, app)
	if err != nil {
		return rollout.Revision{}, err
	}
	resolved, err := rec.Spec.Resolve(env)
	if err != nil {
		return rollout.Revision{}, err
	}
	return st.CreateRevision(ctx, rollout.Revision{App: app, Env: env, Version: version, Spec: resolved})
}

func storedRun(t *testing.T, st pipeline.Store, id int64) pipeline.Run {
	t.Helper()
	run, err := st.GetRun(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return run
}
