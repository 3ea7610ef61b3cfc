package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/gantry-dev/gantry/rollout"
)

// workers is how many goroutines race in each concurrency test.
const workers = 8

var concurrencyTests = []test{
	{"RevisionNumbers", func(t *testing.T, s rollout.Store) {
		const each = 10
		nums := make(chan int, workers*each)
		errs := make(chan error, workers*each)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for range each {
					r, err := s.CreateRevision(ctx(t), newRevision("payments", "production", "v"))
					if err != nil {
						errs <- err
						continue
					}
					nums <- r.Number
				}
			})
		}
		wg.Wait()
		close(nums)
		close(errs)
		for err := range errs {
			t.Errorf("CreateRevision: %v", err)
		}
		var got []int
		for n := range nums {
			got = append(got, n)
		}
		slices.Sort(got)
		for i, n := range got {
			if n != i+1 {
				t.Fatalf("revision numbers from %d concurrent creators, sorted: %v; want 1..%d once each", workers, got, workers*each)
			}
		}
		list, err := s.ListRevisions(ctx(t), "payments", "production")
		must(t, "ListRevisions", err)
		if len(list) != len(got) {
			t.Errorf("ListRevisions: %d revisions, want %d", len(list), len(got))
		}
	}},
	{"UpdateRace", func(t *testing.T, s rollout.Store) {
		r, err := s.CreateRollout(ctx(t), fullRollout("payments", "production"))
		must(t, "CreateRollout", err)
		for round := range 5 {
			var mu sync.Mutex
			var wins, conflicts int
			var winner rollout.Rollout
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					u := r
					u.Step = w
					got, err := s.UpdateRollout(ctx(t), u)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						wins++
						winner = got
					case errors.Is(err, rollout.ErrConflict):
						conflicts++
					default:
						t.Errorf("round %d: UpdateRollout: %v, want nil or ErrConflict", round, err)
					}
				})
			}
			wg.Wait()
			if wins != 1 || conflicts != workers-1 {
				t.Fatalf("round %d: %d updaters won and %d got ErrConflict, want 1 and %d", round, wins, conflicts, workers-1)
			}
			back, err := s.GetRollout(ctx(t), r.ID)
			must(t, "GetRollout", err)
			if back.Step != winner.Step || back.Generation != r.Generation+1 {
				t.Fatalf("round %d: stored step %d generation %d, want the winner's: step %d generation %d",
					round, back.Step, back.Generation, winner.Step, r.Generation+1)
			}
			r = back
		}
	}},
	{"AppendAndRead", func(t *testing.T, s rollout.Store) {
		const each = 20
		ids := make(chan int64, workers*each)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					e, err := s.AppendEvent(ctx(t), newEvent("payments", "staging", int64(w), i))
					if err != nil {
						t.Errorf("AppendEvent: %v", err)
						continue
					}
					ids <- e.ID
				}
			})
			// Readers run beside the writers.
			wg.Go(func() {
				for range each / 4 {
					if _, err := s.ListEvents(ctx(t), rollout.EventFilter{App: "payments", Limit: 10}); err != nil {
						t.Errorf("ListEvents: %v", err)
					}
					if _, err := s.ListRollouts(ctx(t), rollout.RolloutFilter{Active: true}); err != nil {
						t.Errorf("ListRollouts: %v", err)
					}
				}
			})
		}
		wg.Wait()
		close(ids)
		seen := map[int64]bool{}
		for id := range ids {
			if seen[id] {
				t.Errorf("event ID %d handed out twice", id)
			}
			seen[id] = true
		}
		all, err := s.ListEvents(ctx(t), rollout.EventFilter{})
		must(t, "ListEvents", err)
		if len(all) != len(seen) {
			t.Errorf("ListEvents: %d events, want %d", len(all), len(seen))
		}
		for i := 1; i < len(all); i++ {
			if all[i].ID <= all[i-1].ID {
				t.Fatalf("ListEvents not oldest first: ID %d after %d", all[i].ID, all[i-1].ID)
			}
		}
	}},
}
