package storetest

import (
	"testing"

	"github.com/gantry-dev/gantry/rollout"
)

var eventTests = []test{
	{"AppendRoundTrip", func(t *testing.T, s rollout.Store) {
		in := newEvent("payments", "production", 7, 0)
		in.ID = 99 // ignored
		got, err := s.AppendEvent(ctx(t), in)
		must(t, "AppendEvent", err)
		if got.ID < 1 {
			t.Errorf("AppendEvent ID = %d, want >= 1", got.ID)
		}
		want := stored(t, in)
		want.ID = got.ID
		same(t, "AppendEvent result", got, want)
		all, err := s.ListEvents(ctx(t), rollout.EventFilter{})
		must(t, "ListEvents", err)
		if len(all) != 1 {
			t.Fatalf("ListEvents: %d events, want 1", len(all))
		}
		same(t, "ListEvents", all[0], want)
	}},
	{"WithoutRollout", func(t *testing.T, s rollout.Store) {
		in := rollout.Event{Time: at(0), App: "payments", Env: "staging", Type: rollout.Normal, Reason: "Applied"}
		got, err := s.AppendEvent(ctx(t), in)
		must(t, "AppendEvent", err)
		all, err := s.ListEvents(ctx(t), rollout.EventFilter{})
		must(t, "ListEvents", err)
		want := stored(t, in)
		want.ID = got.ID
		if len(all) == 1 {
			same(t, "ListEvents", all[0], want)
		}
	}},
	{"IDsIncrease", func(t *testing.T, s rollout.Store) {
		var last int64
		for i := range 5 {
			e, err := s.AppendEvent(ctx(t), newEvent("payments", "staging", 0, i))
			must(t, "AppendEvent", err)
			if e.ID <= last {
				t.Errorf("event %d: ID %d, want > %d", i, e.ID, last)
			}
			last = e.ID
		}
	}},
	{"List", testListEvents},
}

func testListEvents(t *testing.T, s rollout.Store) {
	seed := []struct {
		app, env string
		rollout  int64
		sec      int // seconds into the day, see at
	}{
		{"payments", "staging", 1, 0},     // 0
		{"payments", "staging", 1, 10},    // 1
		{"payments", "production", 2, 20}, // 2
		{"search", "staging", 3, 30},      // 3
		{"payments", "staging", 0, 40},    // 4
		{"payments", "production", 2, 50}, // 5
		{"search", "staging", 0, 60},      // 6
		{"payments", "staging", 1, 70},    // 7
	}
	var ids []int64
	for _, e := range seed {
		got, err := s.AppendEvent(ctx(t), newEvent(e.app, e.env, e.rollout, e.sec))
		must(t, "AppendEvent", err)
		ids = append(ids, got.ID)
	}
	tests := []struct {
		name   string
		filter rollout.EventFilter
		want   []int // indexes into seed, oldest first
	}{
		{"all", rollout.EventFilter{}, []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"app", rollout.EventFilter{App: "search"}, []int{3, 6}},
		{"env", rollout.EventFilter{Env: "production"}, []int{2, 5}},
		{"app and env", rollout.EventFilter{App: "payments", Env: "staging"}, []int{0, 1, 4, 7}},
		{"rollout", rollout.EventFilter{RolloutID: 1}, []int{0, 1, 7}},
		{"after id", rollout.EventFilter{AfterID: ids[4]}, []int{5, 6, 7}},
		{"after last id", rollout.EventFilter{AfterID: ids[7]}, nil},
		// Since keeps events at or after the time, even when it is given
		// in another zone and with nanoseconds the store does not keep.
		{"since", rollout.EventFilter{Since: at(50)}, []int{5, 6, 7}},
		{"since utc", rollout.EventFilter{Since: at(50).UTC()}, []int{5, 6, 7}},
		{"since between", rollout.EventFilter{Since: at(51)}, []int{6, 7}},
		{"limit newest", rollout.EventFilter{Limit: 3}, []int{5, 6, 7}},
		{"limit above count", rollout.EventFilter{App: "search", Limit: 5}, []int{3, 6}},
		{"app limit", rollout.EventFilter{App: "payments", Env: "staging", Limit: 2}, []int{4, 7}},
		{"after id limit", rollout.EventFilter{AfterID: ids[1], Limit: 2}, []int{6, 7}},
		{"everything", rollout.EventFilter{App: "payments", Env: "staging", RolloutID: 1, AfterID: ids[0], Since: at(5), Limit: 1}, []int{7}},
		{"no match", rollout.EventFilter{App: "billing"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListEvents(ctx(t), tc.filter)
			must(t, "ListEvents", err)
			var gotIDs, wantIDs []int64
			for _, e := range got {
				gotIDs = append(gotIDs, e.ID)
			}
			for _, i := range tc.want {
				wantIDs = append(wantIDs, ids[i])
			}
			if !equalSlices(gotIDs, wantIDs) {
				t.Errorf("ListEvents(%+v) IDs = %v, want %v", tc.filter, gotIDs, wantIDs)
			}
		})
	}
}
