package rollout_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

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
