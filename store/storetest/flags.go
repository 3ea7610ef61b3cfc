package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/featureflag"
)

// FlagOpenFunc opens a new, empty flag store for one test.
type FlagOpenFunc func(t *testing.T) featureflag.Store

// RunFlags runs the featureflag.Store conformance suite against stores
// that open makes.
func RunFlags(t *testing.T, open FlagOpenFunc) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s featureflag.Store)
	}{
		{"VersionsAndCurrent", flagVersionsAndCurrent},
		{"ConflictStoresNothing", flagConflictStoresNothing},
		{"ConcurrentWriters", flagConcurrentWriters},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

func flagVersion(env, key string, version int64, pct float64) featureflag.Version {
	f := &featureflag.Flag{Key: key, Type: featureflag.Boolean, Variants: map[string]any{"on": true, "off": false},
		DefaultVariant: "off", Rollout: &featureflag.Rollout{Variant: "on", Percentage: pct}}
	if pct < 0 {
		f = nil
	}
	return featureflag.Version{Env: env, Key: key, Version: version, Flag: f, Actor: "ci", Reason: "test",
		Time: time.Date(2026, 5, 20, 10, 0, 0, 123456789, time.UTC)}
}

func flagVersionsAndCurrent(t *testing.T, s featureflag.Store) {
	c := ctx(t)
	if seq, err := s.FlagsSeq(c, "production"); err != nil || seq != 0 {
		t.Fatalf("FlagsSeq of an empty store = %d, %v; want 0, nil", seq, err)
	}
	got, err := s.AppendFlagVersions(c, []featureflag.Version{flagVersion("production", "b", 1, 10), flagVersion("production", "a", 1, 5), flagVersion("staging", "a", 1, 50)})
	must(t, "append", err)
	if len(got) != 3 || got[0].Seq == 0 || got[1].Seq <= got[0].Seq || !got[0].Time.Equal(time.Date(2026, 5, 20, 10, 0, 0, 123456000, time.UTC)) {
		t.Fatalf("stored %+v: want 3 versions with rising Seq and times truncated to µs", got)
	}
	_, err = s.AppendFlagVersions(c, []featureflag.Version{flagVersion("production", "b", 2, 25), flagVersion("production", "a", 2, -1)})
	must(t, "append v2", err)
	cur, err := s.CurrentFlags(c, "production")
	must(t, "current", err)
	if len(cur) != 2 || cur[0].Key != "a" || cur[0].Flag != nil || cur[0].Version != 2 ||
		cur[1].Key != "b" || cur[1].Flag == nil || cur[1].Flag.Rollout.Percentage != 25 || cur[1].Actor != "ci" {
		t.Errorf("current = %+v; want a deleted at v2, b at 25%% at v2", cur)
	}
	hist, err := s.FlagHistory(c, "production", "b")
	must(t, "history", err)
	if len(hist) != 2 || hist[0].Flag.Rollout.Percentage != 10 || hist[1].Version != 2 {
		t.Errorf("history = %+v; want v1 at 10%%, v2", hist)
	}
	seq, err := s.FlagsSeq(c, "production")
	must(t, "seq", err)
	if seq != cur[1].Seq && seq != cur[0].Seq {
		t.Errorf("FlagsSeq = %d, want the newest version's seq", seq)
	}
	if none, err := s.FlagHistory(c, "production", "missing"); err != nil || len(none) != 0 {
		t.Errorf("history of a missing flag = %v, %v; want none", none, err)
	}
}

func flagConflictStoresNothing(t *testing.T, s featureflag.Store) {
	c := ctx(t)
	_, err := s.AppendFlagVersions(c, []featureflag.Version{flagVersion("production", "a", 1, 10)})
	must(t, "append", err)
	_, err = s.AppendFlagVersions(c, []featureflag.Version{flagVersion("production", "b", 1, 10), flagVersion("production", "a", 1, 20)})
	if !errors.Is(err, featureflag.ErrConflict) {
		t.Fatalf("append over an existing version: %v, want ErrConflict", err)
	}
	cur, err := s.CurrentFlags(c, "production")
	must(t, "current", err)
	if len(cur) != 1 || cur[0].Key != "a" {
		t.Errorf("after a refused append: %+v; want only a (b not half-applied)", cur)
	}
}

func flagConcurrentWriters(t *testing.T, s featureflag.Store) {
	c := ctx(t)
	_, err := s.AppendFlagVersions(c, []featureflag.Version{flagVersion("production", "a", 1, 0)})
	must(t, "append", err)
	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			_, errs[i] = s.AppendFlagVersions(c, []featureflag.Version{flagVersion("production", "a", 2, float64(i))})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, featureflag.ErrConflict):
			t.Errorf("a losing writer got %v, want ErrConflict", err)
		}
	}
	if won != 1 {
		t.Errorf("%d writers stored version 2, want exactly 1", won)
	}
}
