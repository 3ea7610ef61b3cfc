package rollout_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/strategy"
)

// failingStore fails every UpdateRollout while failing is set, as a full
// disk does.
type failingStore struct {
	rollout.Store
	failing atomic.Bool
}

var errDiskFull = errors.New("database or disk is full")

func (s *failingStore) UpdateRollout(ctx context.Context, r rollout.Rollout) (rollout.Rollout, error) {
	if s.failing.Load() {
		return rollout.Rollout{}, errDiskFull
	}
	return s.Store.UpdateRollout(ctx, r)
}

// TestEngine_StoreWriteFailureNamesTheRollout checks that a reconcile
// whose write fails reports the rollout it was writing, not the zero
// rollout the failed write returned, and carries on once writes work.
func TestEngine_StoreWriteFailureNamesTheRollout(t *testing.T) {
	h := newHarnessWith(t, appSpec(rollingBlock))
	h.deploy(t, "v1")
	fs := &failingStore{Store: h.store}
	e, err := rollout.New(rollout.Options{Store: fs, Backend: h.backend, Router: &fakeRouter{}, Strategies: strategy.All()})
	if err != nil {
		t.Fatal(err)
	}
	r := h.start(t, "v2")
	h.reconcileUntil(t, r.ID, "progressing", func(r rollout.Rollout) bool { return r.Phase == rollout.Progressing && r.Step == 0 })
	fs.failing.Store(true)
	ctx := context.Background()
	var got error
	for range 20 {
		if got = e.Reconcile(ctx); got != nil {
			break
		}
	}
	if !errors.Is(got, errDiskFull) {
		t.Fatalf("reconcile with a failing store: %v, want %v", got, errDiskFull)
	}
	if want := fmt.Sprintf("rollout %d", r.ID); !strings.Contains(got.Error(), want) || strings.Contains(got.Error(), "rollout 0 ") {
		t.Errorf("error %q does not name %s", got, want)
	}
	fs.failing.Store(false)
	if end := h.until(t, r.ID); end.Phase != rollout.Succeeded {
		t.Errorf("after the store recovered the rollout ended %s (%s), want Succeeded", end.Phase, end.Message)
	}
}

// listFailingStore fails ListApps while failing is set, counting calls.
type listFailingStore struct {
	rollout.Store
	failing atomic.Bool
	calls   atomic.Int64
}

func (s *listFailingStore) ListApps(ctx context.Context) ([]rollout.AppRecord, error) {
	s.calls.Add(1)
	if s.failing.Load() {
		return nil, fmt.Errorf("read tcp 127.0.0.1:%d->127.0.0.1:5432: connection reset by peer", 40000+s.calls.Load())
	}
	return s.Store.ListApps(ctx)
}

// TestEngine_RunLogsAnOutageOnce: a store that fails every reconcile, each
// time with another error text, is logged once when it begins and once
// when it ends, not on every tick (the clock stands still, so no reminder
// is due).
func TestEngine_RunLogsAnOutageOnce(t *testing.T) {
	h := newHarness(t)
	fs := &listFailingStore{Store: h.store}
	fs.failing.Store(true)
	var mu sync.Mutex
	var lines []string
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e, err := rollout.New(rollout.Options{Store: fs, Backend: h.backend, Router: &fakeRouter{}, Strategies: strategy.All(),
		Interval: time.Millisecond, Now: func() time.Time { return at },
		Logf: func(f string, a ...any) { mu.Lock(); lines = append(lines, fmt.Sprintf(f, a...)); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	waitCalls := func(n int64) {
		for fs.calls.Load() < n {
			select {
			case <-t.Context().Done():
				t.Fatal("the engine stopped reconciling")
			case <-time.After(time.Millisecond):
			}
		}
	}
	waitCalls(50)
	fs.failing.Store(false)
	waitCalls(fs.calls.Load() + 20)
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	var outage []string
	for _, l := range lines {
		if strings.HasPrefix(l, "reconcile") {
			outage = append(outage, l)
		}
	}
	if len(outage) != 2 || !strings.HasPrefix(outage[0], "reconcile: list apps: read tcp") || !strings.HasPrefix(outage[1], "reconcile works again after 0s and ") {
		t.Fatalf("%d failed reconciles logged %q, want the outage's start and end", fs.calls.Load(), outage)
	}
}
