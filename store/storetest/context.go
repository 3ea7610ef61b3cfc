package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/gantry-dev/gantry/rollout"
)

var contextTests = []test{
	{"Canceled", func(t *testing.T, s rollout.Store) {
		r, err := s.CreateRollout(ctx(t), fullRollout("payments", "production"))
		must(t, "CreateRollout", err)
		_, err = s.CreateRevision(ctx(t), newRevision("payments", "production", "v"))
		must(t, "CreateRevision", err)

		canceled, cancel := context.WithCancel(t.Context())
		cancel()
		calls := []struct {
			name string
			call func(context.Context) error
		}{
			{"PutApp", func(c context.Context) error { return s.PutApp(c, fullApp("payments")) }},
			{"GetApp", func(c context.Context) error { _, err := s.GetApp(c, "payments"); return err }},
			{"ListApps", func(c context.Context) error { _, err := s.ListApps(c); return err }},
			{"CreateRevision", func(c context.Context) error {
				_, err := s.CreateRevision(c, newRevision("payments", "production", "v"))
				return err
			}},
			{"GetRevision", func(c context.Context) error { _, err := s.GetRevision(c, "payments", "production", 1); return err }},
			{"ListRevisions", func(c context.Context) error { _, err := s.ListRevisions(c, "payments", "production"); return err }},
			{"DeleteRevision", func(c context.Context) error { return s.DeleteRevision(c, "payments", "production", 1) }},
			{"CreateRollout", func(c context.Context) error { _, err := s.CreateRollout(c, r); return err }},
			{"UpdateRollout", func(c context.Context) error { _, err := s.UpdateRollout(c, r); return err }},
			{"GetRollout", func(c context.Context) error { _, err := s.GetRollout(c, r.ID); return err }},
			{"ListRollouts", func(c context.Context) error { _, err := s.ListRollouts(c, rollout.RolloutFilter{}); return err }},
			{"AppendEvent", func(c context.Context) error {
				_, err := s.AppendEvent(c, newEvent("payments", "production", r.ID, 0))
				return err
			}},
			{"ListEvents", func(c context.Context) error { _, err := s.ListEvents(c, rollout.EventFilter{}); return err }},
		}
		for _, c := range calls {
			if err := c.call(canceled); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a canceled context: error = %v, want one wrapping context.Canceled", c.name, err)
			}
		}

		// Nothing was written.
		if _, err := s.GetApp(ctx(t), "payments"); !errors.Is(err, rollout.ErrNotFound) {
			t.Errorf("GetApp after a canceled PutApp: error = %v, want ErrNotFound", err)
		}
		revs, err := s.ListRevisions(ctx(t), "payments", "production")
		must(t, "ListRevisions", err)
		if len(revs) != 1 {
			t.Errorf("after a canceled CreateRevision and DeleteRevision: %d revisions, want 1", len(revs))
		}
		rs, err := s.ListRollouts(ctx(t), rollout.RolloutFilter{})
		must(t, "ListRollouts", err)
		if len(rs) != 1 {
			t.Errorf("after a canceled CreateRollout: %d rollouts, want 1", len(rs))
		} else if rs[0].Generation != 1 {
			t.Errorf("after a canceled UpdateRollout: generation %d, want 1", rs[0].Generation)
		}
		es, err := s.ListEvents(ctx(t), rollout.EventFilter{})
		must(t, "ListEvents", err)
		if len(es) != 0 {
			t.Errorf("after a canceled AppendEvent: %d events, want 0", len(es))
		}
	}},
}
