package rollout

import "sync"

// envKey names one app environment.
type envKey struct{ app, env string }

// envLocks serialises the work on each app environment: its reconcile and
// every command on it hold its lock, so a command never sees a reconcile
// half done and checks and acts on a rollout in one piece. Environments do
// not wait for each other: a command waits at most for one environment's
// reconcile, never for a pass over every app. A lock exists while someone
// holds or waits for it.
type envLocks struct {
	mu sync.Mutex
	m  map[envKey]*envLock
}

type envLock struct {
	mu   sync.Mutex
	refs int
}

// lock takes app/env's lock and returns the function that releases it.
func (l *envLocks) lock(app, env string) (unlock func()) {
	k := envKey{app, env}
	l.mu.Lock()
	if l.m == nil {
		l.m = map[envKey]*envLock{}
	}
	el := l.m[k]
	if el == nil {
		el = &envLock{}
		l.m[k] = el
	}
	el.refs++
	l.mu.Unlock()
	el.mu.Lock()
	return func() {
		el.mu.Unlock()
		l.mu.Lock()
		if el.refs--; el.refs == 0 {
			delete(l.m, k)
		}
		l.mu.Unlock()
	}
}
