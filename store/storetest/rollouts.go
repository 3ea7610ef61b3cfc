package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/analysis"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// allPhases lists every phase, final or not.
var allPhases = []rollout.Phase{
	rollout.Pending, rollout.Progressing, rollout.Paused, rollout.RollingBack,
	rollout.Succeeded, rollout.RolledBack, rollout.Failed, rollout.Aborted, rollout.Superseded,
}

var rolloutTests = []test{
	{"CreateGet", func(t *testing.T, s rollout.Store) {
		in := fullRollout("payments", "production")
		in.ID, in.Generation = 42, 7 // ignored
		got, err := s.CreateRollout(ctx(t), in)
		must(t, "CreateRollout", err)
		if got.ID < 1 {
			t.Errorf("CreateRollout ID = %d, want >= 1", got.ID)
		}
		want := stored(t, in)
		want.ID, want.Generation = got.ID, 1
		same(t, "CreateRollout result", got, want)
		back, err := s.GetRollout(ctx(t), got.ID)
		must(t, "GetRollout", err)
		same(t, "GetRollout", back, want)
	}},
	{"ZeroTimesStayZero", func(t *testing.T, s rollout.Store) {
		in := rollout.Rollout{App: "payments", Env: "staging", Strategy: spec.RollingUpdate, ToRevision: 1, Phase: rollout.Pending}
		got, err := s.CreateRollout(ctx(t), in)
		must(t, "CreateRollout", err)
		back, err := s.GetRollout(ctx(t), got.ID)
		must(t, "GetRollout", err)
		for i, p := range timesOf(&back) {
			if !p.IsZero() {
				t.Errorf("time field %d = %v, want zero", i, *p)
			}
		}
	}},
	{"IDsIncrease", func(t *testing.T, s rollout.Store) {
		var last int64
		for i := range 5 {
			r, err := s.CreateRollout(ctx(t), fullRollout("payments", "staging"))
			must(t, "CreateRollout", err)
			if r.ID <= last {
				t.Errorf("rollout %d: ID %d, want > %d", i, r.ID, last)
			}
			last = r.ID
		}
	}},
	{"EveryPhase", func(t *testing.T, s rollout.Store) {
		for _, p := range allPhases {
			in := fullRollout("payments", "staging")
			in.Phase = p
			r, err := s.CreateRollout(ctx(t), in)
			must(t, "CreateRollout "+p.String(), err)
			back, err := s.GetRollout(ctx(t), r.ID)
			must(t, "GetRollout", err)
			if back.Phase != p {
				t.Errorf("GetRollout phase = %v, want %v", back.Phase, p)
			}
		}
	}},
	{"Update", func(t *testing.T, s rollout.Store) {
		r, err := s.CreateRollout(ctx(t), fullRollout("payments", "production"))
		must(t, "CreateRollout", err)
		u := r
		u.Strategy = spec.BlueGreen
		u.FromRevision, u.ToRevision = 4, 5
		u.Phase = rollout.RolledBack
		u.Step = 4
		u.StepStartedAt, u.LastProgressAt = at(20), at(21)
		u.Reason, u.Message, u.Actor = "AnalysisFailed", "error rate 7.1% > 5%", "gantry"
		u.Details = &rollout.Details{Analysis: []analysis.Reason{{Trigger: analysis.ErrorRate, Fired: true, Observed: 0.071, Threshold: 0.05}}}
		u.Cause = rollout.ReasonRolloutRetried
		u.CreatedAt, u.UpdatedAt, u.FinishedAt = at(22), at(23), at(24)
		got, err := s.UpdateRollout(ctx(t), u)
		must(t, "UpdateRollout", err)
		want := stored(t, u)
		want.Generation = 2
		same(t, "UpdateRollout result", got, want)
		back, err := s.GetRollout(ctx(t), r.ID)
		must(t, "GetRollout", err)
		same(t, "GetRollout after update", back, want)

		got.Step = 5
		got.FinishedAt = time.Time{}
		third, err := s.UpdateRollout(ctx(t), got)
		must(t, "UpdateRollout again", err)
		if third.Generation != 3 {
			t.Errorf("second update: Generation = %d, want 3", third.Generation)
		}
		if back, _ := s.GetRollout(ctx(t), r.ID); !back.FinishedAt.IsZero() {
			t.Errorf("FinishedAt after clearing it = %v, want zero", back.FinishedAt)
		}
	}},
	{"UpdateStale", func(t *testing.T, s rollout.Store) {
		r, err := s.CreateRollout(ctx(t), fullRollout("payments", "production"))
		must(t, "CreateRollout", err)
		first := r
		first.Step = 1
		_, err = s.UpdateRollout(ctx(t), first)
		must(t, "UpdateRollout", err)

		stale := r // still Generation 1
		stale.Step = 9
		stale.Phase = rollout.Aborted
		if _, err := s.UpdateRollout(ctx(t), stale); !errors.Is(err, rollout.ErrConflict) {
			t.Errorf("UpdateRollout with a stale generation: error = %v, want ErrConflict", err)
		}
		ahead := r
		ahead.Generation = 5
		if _, err := s.UpdateRollout(ctx(t), ahead); !errors.Is(err, rollout.ErrConflict) {
			t.Errorf("UpdateRollout with a generation from the future: error = %v, want ErrConflict", err)
		}
		back, err := s.GetRollout(ctx(t), r.ID)
		must(t, "GetRollout", err)
		if back.Step != 1 || back.Generation != 2 || back.Phase != r.Phase {
			t.Errorf("after refused updates: step %d, generation %d, phase %v; want 1, 2, %v", back.Step, back.Generation, back.Phase, r.Phase)
		}
	}},
	{"UnknownID", func(t *testing.T, s rollout.Store) {
		r, err := s.CreateRollout(ctx(t), fullRollout("payments", "production"))
		must(t, "CreateRollout", err)
		if _, err := s.GetRollout(ctx(t), r.ID+1); !errors.Is(err, rollout.ErrNotFound) {
			t.Errorf("GetRollout(unknown) error = %v, want ErrNotFound", err)
		}
		r.ID++
		if _, err := s.UpdateRollout(ctx(t), r); !errors.Is(err, rollout.ErrNotFound) {
			t.Errorf("UpdateRollout(unknown) error = %v, want ErrNotFound", err)
		}
	}},
	{"List", testListRollouts},
}

func testListRollouts(t *testing.T, s rollout.Store) {
	// ids[i] is the ID of the i-th rollout created.
	seed := []struct {
		app, env string
		phase    rollout.Phase
	}{
		{"payments", "staging", rollout.Succeeded},   // 0
		{"payments", "production", rollout.Paused},   // 1
		{"search", "staging", rollout.Progressing},   // 2
		{"payments", "staging", rollout.RolledBack},  // 3
		{"payments", "staging", rollout.Pending},     // 4
		{"search", "production", rollout.Superseded}, // 5
		{"payments", "staging", rollout.RollingBack}, // 6
		{"payments", "production", rollout.Aborted},  // 7
	}
	var ids []int64
	for _, r := range seed {
		in := fullRollout(r.app, r.env)
		in.Phase = r.phase
		got, err := s.CreateRollout(ctx(t), in)
		must(t, "CreateRollout", err)
		ids = append(ids, got.ID)
	}
	tests := []struct {
		name   string
		filter rollout.RolloutFilter
		want   []int // indexes into seed, newest first
	}{
		{"all", rollout.RolloutFilter{}, []int{7, 6, 5, 4, 3, 2, 1, 0}},
		{"app", rollout.RolloutFilter{App: "payments"}, []int{7, 6, 4, 3, 1, 0}},
		{"env", rollout.RolloutFilter{Env: "production"}, []int{7, 5, 1}},
		{"app and env", rollout.RolloutFilter{App: "payments", Env: "staging"}, []int{6, 4, 3, 0}},
		{"active", rollout.RolloutFilter{Active: true}, []int{6, 4, 2, 1}},
		{"active app env", rollout.RolloutFilter{App: "payments", Env: "staging", Active: true}, []int{6, 4}},
		{"limit", rollout.RolloutFilter{Limit: 3}, []int{7, 6, 5}},
		{"limit above count", rollout.RolloutFilter{App: "search", Limit: 10}, []int{5, 2}},
		{"active limit", rollout.RolloutFilter{Active: true, Limit: 1}, []int{6}},
		{"no match", rollout.RolloutFilter{App: "billing"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListRollouts(ctx(t), tc.filter)
			must(t, "ListRollouts", err)
			var gotIDs, wantIDs []int64
			for _, r := range got {
				gotIDs = append(gotIDs, r.ID)
			}
			for _, i := range tc.want {
				wantIDs = append(wantIDs, ids[i])
			}
			if !equalSlices(gotIDs, wantIDs) {
				t.Errorf("ListRollouts(%+v) IDs = %v, want %v", tc.filter, gotIDs, wantIDs)
			}
		})
	}

	// A rollout that reaches a final phase leaves the active list.
	r, err := s.GetRollout(ctx(t), ids[6])
	must(t, "GetRollout", err)
	r.Phase = rollout.RolledBack
	_, err = s.UpdateRollout(ctx(t), r)
	must(t, "UpdateRollout", err)
	active, err := s.ListRollouts(ctx(t), rollout.RolloutFilter{Active: true})
	must(t, "ListRollouts", err)
	var activeIDs []int64
	for _, r := range active {
		activeIDs = append(activeIDs, r.ID)
	}
	if want := []int64{ids[4], ids[2], ids[1]}; !equalSlices(activeIDs, want) {
		t.Errorf("active rollouts after one rolled back: %v, want %v", activeIDs, want)
	}

	got, err := s.ListRollouts(ctx(t), rollout.RolloutFilter{Limit: 1})
	must(t, "ListRollouts", err)
	want, err := s.GetRollout(ctx(t), ids[7])
	must(t, "GetRollout", err)
	if len(got) == 1 {
		same(t, "ListRollouts item", got[0], want)
	}
}
