package storetest

import (
	"errors"
	"testing"

	"github.com/gantry-dev/gantry/rollout"
)

var revisionTests = []test{
	{"CreateGet", func(t *testing.T, s rollout.Store) {
		in := newRevision("payments", "production", "1.4.2")
		in.Number = 99 // ignored
		got, err := s.CreateRevision(ctx(t), in)
		must(t, "CreateRevision", err)
		want := stored(t, in)
		want.Number = 1
		same(t, "CreateRevision result", got, want)
		back, err := s.GetRevision(ctx(t), "payments", "production", 1)
		must(t, "GetRevision", err)
		same(t, "GetRevision", back, want)
	}},
	{"NumberedPerAppAndEnv", func(t *testing.T, s rollout.Store) {
		steps := []struct {
			app, env string
			want     int
		}{
			{"payments", "staging", 1},
			{"payments", "staging", 2},
			{"payments", "production", 1},
			{"search", "staging", 1},
			{"payments", "staging", 3},
			{"payments", "production", 2},
		}
		for i, st := range steps {
			got, err := s.CreateRevision(ctx(t), newRevision(st.app, st.env, "v"))
			must(t, "CreateRevision", err)
			if got.Number != st.want {
				t.Errorf("step %d: CreateRevision(%s/%s).Number = %d, want %d", i, st.app, st.env, got.Number, st.want)
			}
		}
	}},
	{"ListOldestFirst", func(t *testing.T, s rollout.Store) {
		var want []rollout.Revision
		for _, v := range []string{"1.0.0", "1.1.0", "1.2.0"} {
			r, err := s.CreateRevision(ctx(t), newRevision("payments", "staging", v))
			must(t, "CreateRevision", err)
			want = append(want, r)
		}
		_, err := s.CreateRevision(ctx(t), newRevision("payments", "production", "9.9.9"))
		must(t, "CreateRevision in another env", err)
		_, err = s.CreateRevision(ctx(t), newRevision("search", "staging", "9.9.9"))
		must(t, "CreateRevision of another app", err)

		got, err := s.ListRevisions(ctx(t), "payments", "staging")
		must(t, "ListRevisions", err)
		if len(got) != len(want) {
			t.Fatalf("ListRevisions: %d revisions, want %d", len(got), len(want))
		}
		for i := range got {
			same(t, "ListRevisions", got[i], want[i])
		}
		none, err := s.ListRevisions(ctx(t), "payments", "development")
		must(t, "ListRevisions of an env without revisions", err)
		if len(none) != 0 {
			t.Errorf("ListRevisions of an env without revisions: %d, want 0", len(none))
		}
	}},
	{"GetUnknown", func(t *testing.T, s rollout.Store) {
		_, err := s.CreateRevision(ctx(t), newRevision("payments", "staging", "1.0.0"))
		must(t, "CreateRevision", err)
		for _, c := range []struct {
			app, env string
			n        int
		}{{"payments", "staging", 2}, {"payments", "production", 1}, {"search", "staging", 1}, {"payments", "staging", 0}} {
			if _, err := s.GetRevision(ctx(t), c.app, c.env, c.n); !errors.Is(err, rollout.ErrNotFound) {
				t.Errorf("GetRevision(%s, %s, %d) error = %v, want ErrNotFound", c.app, c.env, c.n, err)
			}
		}
	}},
	{"Delete", func(t *testing.T, s rollout.Store) {
		for range 3 {
			_, err := s.CreateRevision(ctx(t), newRevision("payments", "staging", "v"))
			must(t, "CreateRevision", err)
		}
		_, err := s.CreateRevision(ctx(t), newRevision("payments", "production", "v"))
		must(t, "CreateRevision", err)

		must(t, "DeleteRevision 1", s.DeleteRevision(ctx(t), "payments", "staging", 1))
		if _, err := s.GetRevision(ctx(t), "payments", "staging", 1); !errors.Is(err, rollout.ErrNotFound) {
			t.Errorf("GetRevision of a deleted revision: error = %v, want ErrNotFound", err)
		}
		if err := s.DeleteRevision(ctx(t), "payments", "staging", 1); !errors.Is(err, rollout.ErrNotFound) {
			t.Errorf("DeleteRevision of a deleted revision: error = %v, want ErrNotFound", err)
		}
		if _, err := s.GetRevision(ctx(t), "payments", "production", 1); err != nil {
			t.Errorf("GetRevision of the same number in another env after delete: %v", err)
		}
		got, err := s.ListRevisions(ctx(t), "payments", "staging")
		must(t, "ListRevisions", err)
		if nums := numbers(got); !equalSlices(nums, []int{2, 3}) {
			t.Errorf("ListRevisions after deleting 1 = %v, want [2 3]", nums)
		}
	}},
	{"NumbersNotReused", func(t *testing.T, s rollout.Store) {
		for range 2 {
			_, err := s.CreateRevision(ctx(t), newRevision("payments", "staging", "v"))
			must(t, "CreateRevision", err)
		}
		must(t, "DeleteRevision 2", s.DeleteRevision(ctx(t), "payments", "staging", 2))
		got, err := s.CreateRevision(ctx(t), newRevision("payments", "staging", "v"))
		must(t, "CreateRevision", err)
		if got.Number != 3 {
			t.Errorf("CreateRevision after deleting the newest (2): Number = %d, want 3", got.Number)
		}
	}},
}

func numbers(revs []rollout.Revision) []int {
	var n []int
	for _, r := range revs {
		n = append(n, r.Number)
	}
	return n
}
