package audit

import (
	"context"
	"fmt"
	"time"
)

// Log appends records to a Store, filling in the time.
type Log struct {
	store Store
	now   func() time.Time
	logf  func(format string, args ...any)
}

// Options configure a Log.
type Options struct {
	// Store is required.
	Store Store
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Logf receives append failures of Record; nil: silent.
	Logf func(format string, args ...any)
}

// New returns a Log over opts.Store.
func New(opts Options) *Log {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	return &Log{store: opts.Store, now: opts.Now, logf: opts.Logf}
}

// Append stores r, with the current time when r.Time is zero, and
// returns it as stored.
func (l *Log) Append(ctx context.Context, r Record) (Record, error) {
	if r.Time.IsZero() {
		r.Time = l.now()
	}
	stored, err := l.store.AppendAudit(ctx, r)
	if err != nil {
		return Record{}, fmt.Errorf("append audit record %s by %q: %w", r.Action, r.Actor, err)
	}
	return stored, nil
}

// Record is Append for callers that cannot act on a failure: it logs it.
func (l *Log) Record(ctx context.Context, r Record) {
	if _, err := l.Append(ctx, r); err != nil {
		l.logf("%v", err)
	}
}

// Store returns the log's store.
func (l *Log) Store() Store { return l.store }

// OutcomeOf names an HTTP status's outcome: "ok" (1xx–3xx), "denied"
// (401, 403), "rejected" (other 4xx), "error" (5xx).
func OutcomeOf(status int) string {
	switch {
	case status == 401 || status == 403:
		return "denied"
	case status >= 500:
		return "error"
	case status >= 400:
		return "rejected"
	}
	return "ok"
}
