package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/gantry-dev/gantry/featureflag"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/store/sqlite"
	"github.com/gantry-dev/gantry/store/storetest"
)

func openTemp(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "state", "gantry.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) rollout.Store { return openTemp(t) })
}

func TestOpen_keepsDataAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "gantry.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("open a new store in missing directories: %v", err)
	}
	r, err := s.CreateRollout(t.Context(), rollout.Rollout{App: "payments", Env: "staging", Phase: rollout.Pending})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.GetRollout(t.Context(), r.ID)
	if err != nil {
		t.Fatalf("rollout %d after reopening: %v", r.ID, err)
	}
	if got.App != "payments" || got.Phase != rollout.Pending {
		t.Errorf("rollout after reopening = %+v, want payments, Pending", got)
	}
	if err := s.IntegrityCheck(t.Context()); err != nil {
		t.Error(err)
	}
}

func TestStore_flags(t *testing.T) {
	storetest.RunFlags(t, func(t *testing.T) featureflag.Store { return openTemp(t) })
}
