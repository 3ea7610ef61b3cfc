package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// benchSync are the synchronous settings compared: NORMAL is what Open
// uses; FULL also fsyncs the log at every commit.
var benchSync = []string{"NORMAL", "FULL"}

func benchStore(b *testing.B, sync string) *Store {
	b.Helper()
	s, err := open(b.Context(), filepath.Join(b.TempDir(), "gantry.db"), options{synchronous: sync})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkUpdateRollout(b *testing.B) {
	for _, sync := range benchSync {
		b.Run("sync="+sync, func(b *testing.B) {
			s := benchStore(b, sync)
			r, err := s.CreateRollout(b.Context(), rollout.Rollout{
				App: "payments", Env: "production", Strategy: spec.Canary, ToRevision: 2,
				Phase: rollout.Progressing, CreatedAt: time.Now(),
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				r.Step = i
				r.UpdatedAt = time.Now()
				if r, err = s.UpdateRollout(b.Context(), r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendEvent(b *testing.B) {
	e := rollout.Event{
		App: "payments", Env: "production", RolloutID: 7, Type: rollout.Normal,
		Reason: "StepStarted", Message: "canary at 5% for 5m", Actor: "gantry",
	}
	for _, sync := range benchSync {
		b.Run("sync="+sync, func(b *testing.B) {
			s := benchStore(b, sync)
			b.ReportAllocs()
			for b.Loop() {
				e.Time = time.Now()
				if _, err := s.AppendEvent(b.Context(), e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("parallel", func(b *testing.B) {
		s := benchStore(b, "")
		b.ReportAllocs()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				ev := e
				ev.Time = time.Now()
				if _, err := s.AppendEvent(b.Context(), ev); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkListEvents(b *testing.B) {
	s := benchStore(b, "")
	for i := range 10000 {
		_, err := s.AppendEvent(b.Context(), rollout.Event{
			Time: time.Now(), App: "payments", Env: []string{"staging", "production"}[i%2],
			RolloutID: int64(i / 100), Type: rollout.Normal, Reason: "StepStarted",
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		es, err := s.ListEvents(b.Context(), rollout.EventFilter{App: "payments", Env: "production", Limit: 50})
		if err != nil || len(es) != 50 {
			b.Fatalf("ListEvents: %d events, %v", len(es), err)
		}
	}
}
