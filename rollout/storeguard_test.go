package rollout_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/strategy"
)

// brokenStore fails every rollout and event write while failing is set,
// as a full disk does.
type brokenStore struct {
	rollout.Store
	failing atomic.Bool
}

func (s *brokenStore) UpdateRollout(ctx context.Context, r rollout.Rollout) (rollout.Rollout, error) {
	if s.failing.Load() {
		return rollout.Rollout{}, errDiskFull
	}
	return s.Store.UpdateRollout(ctx, r)
}

func (s *brokenStore) AppendEvent(ctx context.Context, e rollout.Event) (rollout.Event, error) {
	if s.failing.Load() {
		return rollout.Event{}, errDiskFull
	}
	return s.Store.AppendEvent(ctx, e)
}

// logLines collects log lines.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logLines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// waitUntil polls cond for up to 30 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not %s within 30s", what)
		}
	}
}

// TestGuardedStore_FailingWritesAreAConditionAndEventsWait: while the
// store fails writes, the environment has a StoreWriteFailing condition
// naming the rollout, the failures are logged with back-off, and events
// wait; once the store works, the events are written in the order they
// happened, the condition clears and the rollout finishes.
func TestGuardedStore_FailingWritesAreAConditionAndEventsWait(t *testing.T) {
	h := newHarnessWith(t, appSpec(rollingBlock))
	h.deploy(t, "v1")
	bs := &brokenStore{Store: h.store}
	logs := &logLines{}
	g := rollout.GuardStore(bs, rollout.GuardOptions{RetryMin: time.Millisecond, RetryMax: 10 * time.Millisecond, Logf: logs.logf})
	defer g.Close()
	e, err := rollout.New(rollout.Options{Store: g, Backend: h.backend, Router: &fakeRouter{}, Strategies: strategy.All()})
	if err != nil {
		t.Fatal(err)
	}
	r := h.start(t, "v2")
	h.reconcileUntil(t, r.ID, "progressing", func(r rollout.Rollout) bool { return r.Phase == rollout.Progressing && r.Step == 0 })

	bs.failing.Store(true)
	ctx := context.Background()
	failures := 0
	for range 30 {
		if e.Reconcile(ctx) != nil {
			failures++
		}
	}
	// What a restarted server records about the instances it adopts.
	for i := range 4 {
		ev, err := g.AppendEvent(ctx, rollout.Event{Time: time.Now(), App: "web", Env: "prod", Type: rollout.Normal,
			Reason: rollout.ReasonInstanceAdopted, Message: fmt.Sprintf("adopted %d", i)})
		if err != nil || ev.ID != 0 {
			t.Fatalf("AppendEvent on a failing store: id %d, %v; want it queued (id 0, no error)", ev.ID, err)
		}
	}
	c := g.Condition("web", "prod")
	if failures == 0 || c == nil {
		t.Fatalf("%d failed reconciles, condition %+v; want failures and a condition", failures, c)
	}
	if c.Type != rollout.ConditionStoreWriteFailing || !strings.Contains(c.Message, fmt.Sprintf("rollout %d (web/prod)", r.ID)) ||
		!strings.Contains(c.Message, "disk is full") || !strings.Contains(c.Message, "wait to be written") {
		t.Errorf("condition %+v; want %s naming rollout %d, the error and the waiting events", c, rollout.ConditionStoreWriteFailing, r.ID)
	}
	if g.Queued() < 4 {
		t.Errorf("%d events wait, want at least the 4 adopted ones", g.Queued())
	}
	if g.Condition("web", "staging") != nil {
		t.Errorf("an environment that wrote nothing has a condition: %+v", g.Condition("web", "staging"))
	}
	lines := logs.all()
	if len(lines) == 0 || len(lines) >= c.Count {
		t.Errorf("%d log lines for %d failures; want them logged with back-off:\n%s", len(lines), c.Count, strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if strings.Contains(l, "rollout 0") {
			t.Errorf("log line names rollout 0: %s", l)
		}
	}

	bs.failing.Store(false)
	waitUntil(t, "every waiting event written", func() bool { return g.Queued() == 0 })
	if end := h.until(t, r.ID); end.Phase != rollout.Succeeded {
		t.Errorf("after the store recovered the rollout ended %s (%s), want Succeeded", end.Phase, end.Message)
	}
	if c := g.Condition("web", "prod"); c != nil {
		t.Errorf("condition after the store recovered: %+v", c)
	}
	evs, err := h.store.ListEvents(ctx, rollout.EventFilter{App: "web", Env: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	var adopted []string
	for _, ev := range evs {
		if ev.Reason == rollout.ReasonInstanceAdopted {
			adopted = append(adopted, ev.Message)
		}
	}
	if strings.Join(adopted, ",") != "adopted 0,adopted 1,adopted 2,adopted 3" {
		t.Errorf("adopted events written: %q, want all 4 in order", adopted)
	}
	if g.Dropped() != 0 {
		t.Errorf("%d events dropped, want none", g.Dropped())
	}
}

// TestGuardedStore_QueueIsBounded: beyond MaxQueued waiting events new
// ones are dropped and counted, as are those still waiting at Close.
func TestGuardedStore_QueueIsBounded(t *testing.T) {
	h := newHarness(t)
	bs := &brokenStore{Store: h.store}
	bs.failing.Store(true)
	g := rollout.GuardStore(bs, rollout.GuardOptions{MaxQueued: 2, RetryMin: time.Millisecond, RetryMax: time.Millisecond})
	for i := range 5 {
		if _, err := g.AppendEvent(context.Background(), rollout.Event{App: "web", Env: "prod", Reason: rollout.ReasonScaled, Message: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if g.Queued() != 2 || g.Dropped() != 3 {
		t.Errorf("%d queued, %d dropped; want 2 and 3", g.Queued(), g.Dropped())
	}
	g.Close()
	if g.Queued() != 0 || g.Dropped() != 5 {
		t.Errorf("after Close: %d queued, %d dropped; want 0 and 5", g.Queued(), g.Dropped())
	}
}
