package postgres_test

import (
	"testing"
	"time"

	"github.com/gantry-dev/gantry/internal/pgtest"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
	"github.com/gantry-dev/gantry/store/postgres"
)

// benchStore opens a store on a throwaway cluster, which runs with fsync
// off: the figures show gantry's and pgx's overhead, not the disk's.
func benchStore(b *testing.B) *postgres.Store {
	b.Helper()
	c := pgtest.Start(b)
	s, err := postgres.Open(b.Context(), c.CreateDB(b, "bench"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkUpdateRollout(b *testing.B) {
	s := benchStore(b)
	r, err := s.CreateRollout(b.Context(), rollout.Rollout{
		App: "payments", Env: "production", Strategy: spec.Canary, ToRevision: 2, Phase: rollout.Progressing,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Step, r.UpdatedAt = i, time.Now()
		if r, err = s.UpdateRollout(b.Context(), r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendEvent(b *testing.B) {
	s := benchStore(b)
	e := rollout.Event{App: "payments", Env: "production", RolloutID: 7, Type: rollout.Normal, Reason: "StepStarted"}
	b.ReportAllocs()
	for b.Loop() {
		e.Time = time.Now()
		if _, err := s.AppendEvent(b.Context(), e); err != nil {
			b.Fatal(err)
		}
	}
}
