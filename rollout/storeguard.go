package rollout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// ConditionStoreWriteFailing is the type of the condition an environment
// has while writes of its state (rollouts, events) to the store fail.
const ConditionStoreWriteFailing = "StoreWriteFailing"

// Condition is a lasting problem of an environment, shown by status until
// it clears, such as ConditionStoreWriteFailing.
type Condition struct {
	Type string `json:"type"`
	// Message says what fails and why: the last failure, with the
	// rollout's ID, and how many events wait to be written.
	Message string `json:"message"`
	// Since is the first failure, LastSeen the latest; Count counts them.
	Since    time.Time `json:"since"`
	LastSeen time.Time `json:"lastSeen"`
	Count    int       `json:"count"`
	// ofRollout: Message is about a rollout's write, which a later
	// failure of another write does not replace.
	ofRollout bool
}

// GuardOptions configure GuardStore.
type GuardOptions struct {
	// MaxQueued is how many events may wait to be written; beyond it new
	// events are dropped and counted (Dropped). Zero: 10000.
	MaxQueued int
	// RetryMin and RetryMax bound the back-off between attempts to write
	// the oldest waiting event. Zero: 100ms and 5s.
	RetryMin, RetryMax time.Duration
	// Logf receives failures and recoveries, each kind of failure once per
	// back-off (1s doubling up to a minute) with the number left unsaid.
	// Nil: silent.
	Logf func(format string, args ...any)
}

// GuardedStore is a Store whose write failures become a condition on the
// environment written (StoreWriteFailing) instead of passing unnoticed,
// and whose events are never lost to a failed write: an event that cannot
// be written waits in a bounded queue and is written again, in order, until
// it is; while events wait, newer ones queue behind them. AppendEvent of a
// queued event returns it with ID 0 and no error.
type GuardedStore struct {
	Store
	opts GuardOptions
	log  *repeatLog

	mu      sync.Mutex
	conds   map[[2]string]*Condition
	queue   []Event
	dropped uint64
	running bool // the retry goroutine runs
	closed  bool
	wake    chan struct{}
	done    sync.WaitGroup
}

// GuardStore wraps s.
func GuardStore(s Store, opts GuardOptions) *GuardedStore {
	if opts.MaxQueued <= 0 {
		opts.MaxQueued = 10000
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = 100 * time.Millisecond
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = 5 * time.Second
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	return &GuardedStore{Store: s, opts: opts, log: newRepeatLog(opts.Logf),
		conds: map[[2]string]*Condition{}, wake: make(chan struct{}, 1)}
}

// Condition returns app's condition in env, nil when its writes succeed.
func (g *GuardedStore) Condition(app, env string) *Condition {
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.conds[[2]string{app, env}]
	if !ok {
		return nil
	}
	cp := *c
	if n := g.queuedFor(app, env); n > 0 {
		cp.Message += fmt.Sprintf("; %d event(s) wait to be written", n)
	}
	return &cp
}

// Queued returns how many events wait to be written.
func (g *GuardedStore) Queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}

// Dropped returns how many events were dropped because MaxQueued events
// were already waiting, or were still waiting at Close.
func (g *GuardedStore) Dropped() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.dropped
}

func (g *GuardedStore) queuedFor(app, env string) int {
	n := 0
	for _, e := range g.queue {
		if e.App == app && e.Env == env {
			n++
		}
	}
	return n
}

// storeFailure reports whether err is the store failing, rather than an
// answer (not found, a conflicting change) or the caller giving up.
func storeFailure(err error) bool {
	return err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConflict) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// wrote notes the outcome of a write of app's state in env; what names
// it ("update rollout 12").
func (g *GuardedStore) wrote(app, env, what string, err error) {
	key := [2]string{app, env}
	if !storeFailure(err) {
		if err != nil {
			return
		}
		g.mu.Lock()
		c, failing := g.conds[key]
		if failing && g.queuedFor(app, env) == 0 {
			delete(g.conds, key)
		}
		g.mu.Unlock()
		if failing && c != nil {
			g.log.clear(app + "/" + env)
			g.opts.Logf("state store: writes for %s/%s work again after %d failure(s) since %s", app, env, c.Count, c.Since.Format(time.RFC3339))
		}
		return
	}
	now := time.Now()
	msg := fmt.Sprintf("%s (%s/%s): %v", what, app, env, err)
	ofRollout := strings.Contains(what, "rollout ")
	g.mu.Lock()
	c, ok := g.conds[key]
	if !ok {
		c = &Condition{Type: ConditionStoreWriteFailing, Since: now}
		g.conds[key] = c
	}
	if ofRollout || !c.ofRollout {
		c.Message, c.ofRollout = "writing to the state store fails: "+msg, ofRollout
	}
	c.LastSeen = now
	c.Count++
	g.mu.Unlock()
	g.log.say(app+"/"+env, "state store: %s", msg)
}

// UpdateRollout implements Store.
func (g *GuardedStore) UpdateRollout(ctx context.Context, r Rollout) (Rollout, error) {
	stored, err := g.Store.UpdateRollout(ctx, r)
	g.wrote(r.App, r.Env, fmt.Sprintf("update rollout %d", r.ID), err)
	return stored, err
}

// CreateRollout implements Store.
func (g *GuardedStore) CreateRollout(ctx context.Context, r Rollout) (Rollout, error) {
	stored, err := g.Store.CreateRollout(ctx, r)
	g.wrote(r.App, r.Env, fmt.Sprintf("create a rollout to revision %d", r.ToRevision), err)
	return stored, err
}

// AppendEvent implements Store: an event that cannot be written now, or
// that would overtake waiting ones, is queued and written later.
func (g *GuardedStore) AppendEvent(ctx context.Context, e Event) (Event, error) {
	g.mu.Lock()
	waiting := len(g.queue) > 0
	g.mu.Unlock()
	if !waiting {
		stored, err := g.Store.AppendEvent(ctx, e)
		if !storeFailure(err) {
			g.wrote(e.App, e.Env, "", err)
			return stored, err
		}
		g.wrote(e.App, e.Env, eventWhat(e), err)
	}
	g.enqueue(e)
	return e, nil
}

func eventWhat(e Event) string {
	if e.RolloutID != 0 {
		return fmt.Sprintf("record event %s of rollout %d", e.Reason, e.RolloutID)
	}
	return "record event " + string(e.Reason)
}

func (g *GuardedStore) enqueue(e Event) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || len(g.queue) >= g.opts.MaxQueued {
		g.dropped++
		g.log.say("dropped", "state store: %d event(s) wait to be written; %s dropped (%d dropped so far)", len(g.queue), eventWhat(e), g.dropped)
		return
	}
	g.queue = append(g.queue, e)
	if !g.running {
		g.running = true
		g.done.Add(1)
		go g.retry()
	}
}

// retry writes the queued events in order, backing off while the store
// fails, until none is left or Close.
func (g *GuardedStore) retry() {
	defer g.done.Done()
	backoff := g.opts.RetryMin
	for {
		g.mu.Lock()
		if len(g.queue) == 0 || g.closed {
			g.running = false
			g.mu.Unlock()
			return
		}
		e := g.queue[0]
		g.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := g.Store.AppendEvent(ctx, e)
		cancel()
		if err != nil && storeFailure(err) {
			g.wrote(e.App, e.Env, eventWhat(e)+" (queued)", err)
			select {
			case <-time.After(backoff):
			case <-g.wake:
			}
			backoff = min(2*backoff, g.opts.RetryMax)
			continue
		}
		if err != nil {
			g.opts.Logf("state store: %s (queued) not written: %v", eventWhat(e), err)
		}
		backoff = g.opts.RetryMin
		g.mu.Lock()
		g.queue = g.queue[1:]
		left := g.queuedFor(e.App, e.Env)
		g.mu.Unlock()
		if left == 0 && err == nil {
			g.wrote(e.App, e.Env, "", nil)
		}
	}
}

// Close stops retrying: events still waiting are dropped (and counted).
// It returns once the retry goroutine has.
func (g *GuardedStore) Close() {
	g.mu.Lock()
	g.closed = true
	if n := len(g.queue); n > 0 {
		g.dropped += uint64(n)
		g.opts.Logf("state store: %d event(s) never written: dropped at shutdown", n)
		g.queue = nil
	}
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default:
	}
	g.done.Wait()
}

// repeatLog logs a message of one kind at once, then at most once per
// back-off (1s doubling up to a minute), counting the ones it held back.
type repeatLog struct {
	logf func(format string, args ...any)
	mu   sync.Mutex
	kind map[string]*repeats
}

type repeats struct {
	next    time.Time
	backoff time.Duration
	held    int
}

func newRepeatLog(logf func(string, ...any)) *repeatLog {
	return &repeatLog{logf: logf, kind: map[string]*repeats{}}
}

// say logs format unless a message of kind was logged less than its
// back-off ago.
func (l *repeatLog) say(kind, format string, args ...any) {
	now := time.Now()
	l.mu.Lock()
	r, ok := l.kind[kind]
	if !ok {
		r = &repeats{backoff: time.Second}
		l.kind[kind] = r
	}
	if now.Before(r.next) {
		r.held++
		l.mu.Unlock()
		return
	}
	held := r.held
	r.held, r.next = 0, now.Add(r.backoff)
	next := r.backoff
	r.backoff = min(2*r.backoff, time.Minute)
	l.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	if held > 0 {
		msg += fmt.Sprintf(" (and %d more like it since the last report)", held)
	}
	l.logf("%s; next report of this in %s at the earliest", msg, next)
}

// clear forgets kind, so its next message is logged at once.
func (l *repeatLog) clear(kind string) {
	l.mu.Lock()
	delete(l.kind, kind)
	l.mu.Unlock()
}

// reset forgets every kind.
func (l *repeatLog) reset() {
	l.mu.Lock()
	clear(l.kind)
	l.mu.Unlock()
}
