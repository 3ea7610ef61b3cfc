package pipeline_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/hook"
	"github.com/gantry-dev/gantry/pipeline"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
	"github.com/gantry-dev/gantry/store/sqlite"
)

// TestDeployer_ResumeRunsEndHooks is a server that stopped while its
// deploys' rollouts ran: the next one runs each rollout's end hooks once,
// and only for rollouts a deploy started.
func TestDeployer_ResumeRunsEndHooks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "gantry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	app := spec.App{Metadata: spec.Metadata{Name: "web"},
		Hooks: []spec.Hook{{Name: "note", Command: []string{"sh", "-c", `echo "$GANTRY_HOOK_POINT $GANTRY_VERSION" >> hooks.log`}}},
		Environments: []spec.Environment{{Name: "prod", Policy: &spec.EnvironmentPolicy{
			Hooks: spec.HookPoints{PostRollout: []string{"note"}, OnRollback: []string{"note"}}}}}}
	if err := st.PutApp(ctx, rollout.AppRecord{Name: "web", Spec: app}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for v := 1; v <= 5; v++ {
		if _, err := st.CreateRevision(ctx, rollout.Revision{App: "web", Env: "prod", Version: "v" + string(rune('0'+v))}); err != nil {
			t.Fatal(err)
		}
	}
	create := func(rev int, phase rollout.Phase, finished time.Time, reasons ...rollout.Reason) rollout.Rollout {
		t.Helper()
		ro, err := st.CreateRollout(ctx, rollout.Rollout{App: "web", Env: "prod", Strategy: "rolling", ToRevision: rev,
			Phase: phase, CreatedAt: now, UpdatedAt: now, FinishedAt: finished})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reasons {
			if _, err := st.AppendEvent(ctx, rollout.Event{Time: now, App: "web", Env: "prod", RolloutID: ro.ID, Type: rollout.Normal, Reason: r}); err != nil {
				t.Fatal(err)
			}
		}
		return ro
	}
	create(1, rollout.Succeeded, now.Add(-2*pipeline.HookResumeWindow), rollout.ReasonGatesPassed) // too old
	create(2, rollout.Succeeded, now, rollout.ReasonGatesPassed, rollout.ReasonHookRan)            // hooks ran
	create(3, rollout.Succeeded, now)                                                              // not a deploy's
	ended := create(4, rollout.RolledBack, now.Add(-time.Minute), rollout.ReasonGatesOverridden)
	running := create(5, rollout.Progressing, time.Time{}, rollout.ReasonGatesPassed)

	bg, stop := context.WithCancel(ctx)
	defer stop()
	d := &pipeline.Deployer{Gates: &pipeline.Gatekeeper{Rollouts: st, Store: st}, Hooks: hook.Runner{BaseDir: dir}, Background: bg, Poll: 10 * time.Millisecond}
	if err := d.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	logged := func() string { b, _ := os.ReadFile(filepath.Join(dir, "hooks.log")); return string(b) }
	waitEvents(t, st, ended.ID, 1)
	running.Phase, running.FinishedAt = rollout.Succeeded, time.Now()
	if _, err := st.UpdateRollout(ctx, running); err != nil {
		t.Fatal(err)
	}
	waitEvents(t, st, running.ID, 1)
	if got, want := strings.Fields(logged()), []string{"onRollback", "v4", "postRollout", "v5"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("hooks ran: %q, want %q (once each, only for rollouts 4 and 5)", got, want)
	}
}

// waitEvents waits until rollout id has n HookRan or HookFailed events.
func waitEvents(t *testing.T, st rollout.Store, id int64, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		events, err := st.ListEvents(context.Background(), rollout.EventFilter{RolloutID: id})
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for _, e := range events {
			if e.Reason == rollout.ReasonHookRan || e.Reason == rollout.ReasonHookFailed {
				got++
			}
			if e.Reason == rollout.ReasonHookFailed {
				t.Errorf("hook failed: %s", e.Message)
			}
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("rollout %d: %d hook events after 30s, want %d", id, got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
