package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/gantry-dev/gantry/rollout"
)

// installationStore is a store of installation-wide values (such as
// the active users' hash seed that gantry server keeps there).
type installationStore interface {
	InstallationValue(ctx context.Context, name, value string) (string, error)
}

// installation is s as an installationStore; every SQL store is one.
func installation(t *testing.T, s rollout.Store) installationStore {
	t.Helper()
	is, ok := s.(installationStore)
	if !ok {
		t.Fatalf("%T keeps no installation-wide values (InstallationValue)", s)
	}
	return is
}

var installationTests = []test{
	{"FirstValueWins", func(t *testing.T, s rollout.Store) {
		is := installation(t, s)
		c := ctx(t)
		got, err := is.InstallationValue(c, "active_users_seed", "first")
		must(t, "store the first value", err)
		if got != "first" {
			t.Fatalf("first InstallationValue = %q, want first", got)
		}
		got, err = is.InstallationValue(c, "active_users_seed", "second")
		must(t, "store a second value", err)
		if got != "first" {
			t.Fatalf("second InstallationValue = %q, want the first, kept", got)
		}
		other, err := is.InstallationValue(c, "other", "x")
		must(t, "store another name", err)
		if other != "x" {
			t.Fatalf("another name's value = %q, want x", other)
		}
	}},
	{"RacingWritersAgree", func(t *testing.T, s rollout.Store) {
		is := installation(t, s)
		c := ctx(t)
		const n = 8
		got := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { got[i], errs[i] = is.InstallationValue(c, "seed", string(rune('a'+i))) })
		}
		wg.Wait()
		for i := range n {
			must(t, "racing InstallationValue", errs[i])
			if got[i] != got[0] {
				t.Fatalf("racing writers read %q and %q", got[0], got[i])
			}
		}
	}},
}
