package storetest

import (
	"errors"
	"testing"

	"github.com/gantry-dev/gantry/rollout"
)

var appTests = []test{
	{"PutGet", func(t *testing.T, s rollout.Store) {
		a := fullApp("payments")
		must(t, "PutApp", s.PutApp(ctx(t), a))
		got, err := s.GetApp(ctx(t), "payments")
		must(t, "GetApp", err)
		same(t, "GetApp", got, stored(t, a))
	}},
	{"PutReplaces", func(t *testing.T, s rollout.Store) {
		must(t, "PutApp", s.PutApp(ctx(t), fullApp("payments")))
		b := fullApp("payments")
		b.Spec.Spec.Workload.Command = "./server-v2"
		b.Spec.Environments = b.Spec.Environments[:1]
		b.Spec.Metadata.Labels = nil
		b.UpdatedAt = at(100)
		must(t, "PutApp again", s.PutApp(ctx(t), b))
		got, err := s.GetApp(ctx(t), "payments")
		must(t, "GetApp", err)
		same(t, "GetApp after replace", got, stored(t, b))
		all, err := s.ListApps(ctx(t))
		must(t, "ListApps", err)
		if len(all) != 1 {
			t.Errorf("ListApps after replacing one app: %d apps, want 1", len(all))
		}
	}},
	{"GetUnknown", func(t *testing.T, s rollout.Store) {
		must(t, "PutApp", s.PutApp(ctx(t), fullApp("payments")))
		_, err := s.GetApp(ctx(t), "search")
		if !errors.Is(err, rollout.ErrNotFound) {
			t.Errorf("GetApp(unknown) error = %v, want ErrNotFound", err)
		}
	}},
	{"ListByName", func(t *testing.T, s rollout.Store) {
		got, err := s.ListApps(ctx(t))
		must(t, "ListApps on an empty store", err)
		if len(got) != 0 {
			t.Errorf("ListApps on an empty store: %d apps, want 0", len(got))
		}
		for _, n := range []string{"search", "api", "payments"} {
			must(t, "PutApp "+n, s.PutApp(ctx(t), fullApp(n)))
		}
		got, err = s.ListApps(ctx(t))
		must(t, "ListApps", err)
		var names []string
		for _, a := range got {
			names = append(names, a.Name)
		}
		want := []string{"api", "payments", "search"}
		if !equalSlices(names, want) {
			t.Fatalf("ListApps names = %v, want %v", names, want)
		}
		same(t, "ListApps[0]", got[0], stored(t, fullApp("api")))
	}},
}

func equalSlices[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
