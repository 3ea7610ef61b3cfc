package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/gate"
	"github.com/gantry-dev/gantry/pipeline"
	"github.com/gantry-dev/gantry/rollout"
)

var pipelineTests = []test{
	{"ApprovalsByVersion", testApprovals},
	{"ChecksKeepTheirChecklist", testChecks},
	{"RunsSurviveAsStored", testRuns},
}

func pipelineStore(t *testing.T, s rollout.Store) pipeline.Store {
	ps, ok := s.(pipeline.Store)
	if !ok {
		t.Fatalf("%T does not implement pipeline.Store", s)
	}
	return ps
}

func testApprovals(t *testing.T, s rollout.Store) {
	ps, c := pipelineStore(t, s), ctx(t)
	at := time.Date(2026, 11, 29, 2, 0, 0, 123456789, time.UTC)
	for _, a := range []gate.Approval{
		{App: "api", Env: "production", Version: "1.2.0", Approver: "bob", Comment: "lgtm", At: at},
		{App: "api", Env: "production", Version: "1.3.0", Approver: "carol", At: at},
		{App: "api", Env: "staging", Version: "1.2.0", Approver: "dave", At: at},
		{App: "api", Env: "production", Version: "1.2.0", Approver: "carol", At: at.Add(time.Minute)},
	} {
		must(t, "add approval", ps.AddApproval(c, a))
	}
	got, err := ps.ListApprovals(c, "api", "production", "1.2.0")
	must(t, "list approvals", err)
	if len(got) != 2 || got[0].Approver != "bob" || got[1].Approver != "carol" || got[0].Comment != "lgtm" {
		t.Fatalf("approvals = %+v, want bob then carol", got)
	}
	if !got[0].At.Equal(at.Truncate(Precision)) {
		t.Errorf("At = %s, want %s", got[0].At, at.Truncate(Precision))
	}
}

func testChecks(t *testing.T, s rollout.Store) {
	ps, c := pipelineStore(t, s), ctx(t)
	list := gate.Checklist{
		{Gate: gate.WindowGate, Status: gate.Overridden, Reason: "outside; overridden: incident"},
		{Gate: gate.AlertRulesGate, Status: gate.Fail, Advisory: true, Reason: "none"},
	}
	stored, err := ps.AddCheck(c, pipeline.Check{App: "api", Env: "production", Version: "1.2.0", RolloutID: 7,
		Actor: "alice", Override: "incident", Checklist: list, At: time.Now()})
	must(t, "add check", err)
	_, err = ps.AddCheck(c, pipeline.Check{App: "api", Env: "staging", Version: "1.2.0", Actor: "alice", Checklist: list[:1], At: time.Now()})
	must(t, "add check", err)
	got, err := ps.ListChecks(c, "api", "production", "")
	must(t, "list checks", err)
	if len(got) != 1 || got[0].ID != stored.ID || got[0].RolloutID != 7 || got[0].Override != "incident" || len(got[0].Checklist) != 2 {
		t.Fatalf("checks = %+v", got)
	}
	if r := got[0].Checklist[0]; r.Status != gate.Overridden || r.Gate != gate.WindowGate {
		t.Errorf("first result = %+v", r)
	}
	all, err := ps.ListChecks(c, "api", "", "1.2.0")
	must(t, "list checks", err)
	if len(all) != 2 {
		t.Errorf("every environment: %d checks, want 2", len(all))
	}
}

func testRuns(t *testing.T, s rollout.Store) {
	ps, c := pipelineStore(t, s), ctx(t)
	now := time.Now()
	run, err := ps.CreateRun(c, pipeline.Run{App: "api", Version: "1.2.0", Actor: "alice", State: pipeline.RunRunning, CreatedAt: now,
		Stages: []pipeline.Stage{{Env: "staging", Kind: pipeline.StageDeploy, Status: pipeline.StagePending}}})
	must(t, "create run", err)
	other, err := ps.CreateRun(c, pipeline.Run{App: "web", Version: "2", State: pipeline.RunRunning, CreatedAt: now})
	must(t, "create run", err)
	if run.ID == 0 || other.ID == run.ID {
		t.Fatalf("IDs %d and %d", run.ID, other.ID)
	}
	run.Stages[0].Status, run.Stages[0].RolloutID, run.Stages[0].StartedAt = pipeline.StagePassed, 3, now
	run.State, run.FinishedAt = pipeline.RunSucceeded, now
	must(t, "update run", ps.UpdateRun(c, run))
	got, err := ps.GetRun(c, run.ID)
	must(t, "get run", err)
	if got.State != pipeline.RunSucceeded || got.Stages[0].RolloutID != 3 || !got.Stages[0].StartedAt.Equal(now.Truncate(Precision)) {
		t.Fatalf("run = %+v", got)
	}
	active, err := ps.ListRuns(c, "", true)
	must(t, "list runs", err)
	if len(active) != 1 || active[0].ID != other.ID {
		t.Errorf("active runs = %+v, want only %d", active, other.ID)
	}
	if _, err := ps.GetRun(c, 999); !errors.Is(err, rollout.ErrNotFound) {
		t.Errorf("GetRun(999) = %v, want ErrNotFound", err)
	}
	if err := ps.UpdateRun(c, pipeline.Run{ID: 999}); !errors.Is(err, rollout.ErrNotFound) {
		t.Errorf("UpdateRun(999) = %v, want ErrNotFound", err)
	}
}
