package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/audit"
)

// AuthLimit bounds failed authentications (no token, or a wrong, expired
// or revoked one) per source address, so that whoever reaches the API can
// neither guess tokens at speed nor grow the audit log without bound.
type AuthLimit struct {
	// Failures is how many failed authentications one source may make in a
	// Window; beyond them every request from it is answered 429 with
	// Retry-After until the window ends, before its token is looked at.
	// 0: DefaultAuthFailures; negative: no limit (failures are still
	// audited in aggregate).
	Failures int
	// Window is the period failures are counted over, and the period of
	// the aggregate audit records. 0: DefaultAuthWindow.
	Window time.Duration
}

// Defaults of AuthLimit.
const (
	DefaultAuthFailures = 10
	DefaultAuthWindow   = time.Minute
	// maxAuthSources bounds the sources tracked at once; failures from
	// further sources share one window under the name otherSources.
	maxAuthSources = 4096
	otherSources   = "other sources"
)

// CodeRateLimited (429): too many failed authentications from the
// client's address; retry after the Retry-After header's seconds.
const CodeRateLimited = "rate_limited"

// ActionAuthFailed is the audit action of the aggregate record of a
// source's failed authentications in one window.
const ActionAuthFailed = "auth.failed"

// failWindow counts one source's failed authentications in one window.
type failWindow struct {
	start      time.Time
	failures   int // failed authentications and refused requests
	refused    int // answered 429 without looking at the token
	suppressed int // not audited one by one (refused ones included): the aggregate record counts them
	flushed    bool
}

// authLimiter counts failures per source. The first failure of a source in
// a window is audited as any request; the others are counted and written
// as one aggregate record when the window ends, so a flood from one source
// adds at most two records per window.
type authLimiter struct {
	lim     AuthLimit
	now     func() time.Time
	record  func(audit.Record) // nil: no audit log
	mu      sync.Mutex
	sources map[string]*failWindow
}

func newAuthLimiter(lim AuthLimit, now func() time.Time, record func(audit.Record)) *authLimiter {
	if lim.Failures == 0 {
		lim.Failures = DefaultAuthFailures
	}
	if lim.Window <= 0 {
		lim.Window = DefaultAuthWindow
	}
	return &authLimiter{lim: lim, now: now, record: record, sources: map[string]*failWindow{}}
}

// sourceOf is the address a request's failures are counted under: the
// peer's IP, without its port.
func sourceOf(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// window returns src's current window, starting a new one when there is
// none or it ended (writing the ended one's aggregate). Called with mu held.
func (l *authLimiter) window(src string, now time.Time) (string, *failWindow) {
	w, ok := l.sources[src]
	if !ok && len(l.sources) >= maxAuthSources {
		l.sweep(now)
		if len(l.sources) >= maxAuthSources {
			src = otherSources
			w, ok = l.sources[src]
		}
	}
	if ok && now.Sub(w.start) < l.lim.Window {
		return src, w
	}
	if ok {
		l.flushLocked(src, w)
	}
	w = &failWindow{start: now}
	l.sources[src] = w
	return src, w
}

// sweep drops ended windows, writing their aggregates. Called with mu held.
func (l *authLimiter) sweep(now time.Time) {
	for src, w := range l.sources {
		if now.Sub(w.start) >= l.lim.Window {
			l.flushLocked(src, w)
			delete(l.sources, src)
		}
	}
}

// refuse reports whether src is over its limit, counting the refusal, and
// how long until its window ends.
func (l *authLimiter) refuse(r *http.Request) (time.Duration, bool) {
	if l.lim.Failures < 0 {
		return 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	src, w := l.window(sourceOf(r), now)
	if w.failures < l.lim.Failures {
		return 0, false
	}
	w.failures++
	w.refused++
	l.suppress(src, w)
	return w.start.Add(l.lim.Window).Sub(now), true
}

// failed counts a failed authentication and reports whether it is the
// first of its window, to be audited on its own.
func (l *authLimiter) failed(r *http.Request) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	src, w := l.window(sourceOf(r), l.now())
	w.failures++
	if w.failures == 1 {
		return true
	}
	l.suppress(src, w)
	return false
}

// suppress counts a failure the aggregate will report, and schedules the
// aggregate at the window's end. Called with mu held.
func (l *authLimiter) suppress(src string, w *failWindow) {
	w.suppressed++
	if w.suppressed > 1 {
		return // already scheduled
	}
	time.AfterFunc(w.start.Add(l.lim.Window).Sub(l.now())+time.Millisecond, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.flushLocked(src, w)
		if l.sources[src] == w {
			delete(l.sources, src)
		}
	})
}

// flushLocked writes w's aggregate record once, when it suppressed any.
// Called with mu held; the record is written on its own goroutine.
func (l *authLimiter) flushLocked(src string, w *failWindow) {
	if w.flushed || w.suppressed == 0 || l.record == nil {
		w.flushed = true
		return
	}
	w.flushed = true
	end := w.start.Add(l.lim.Window)
	rec := audit.Record{
		Time: end, Action: ActionAuthFailed, RemoteAddr: src, Status: http.StatusUnauthorized, Outcome: "denied",
		Message: fmt.Sprintf("%d more failed authentication(s) and %d request(s) refused with 429 (over %d failures) from %s between %s and %s",
			w.suppressed-w.refused, w.refused, l.lim.Failures, src, w.start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339)),
	}
	go l.record(rec)
}

// writeRateLimited answers 429 with Retry-After in whole seconds (at least 1).
func writeRateLimited(w http.ResponseWriter, retry time.Duration) {
	secs := max(1, int((retry+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, Error{Code: CodeRateLimited,
		Message: fmt.Sprintf("too many failed authentications from your address: retry in %d s with a valid token (gantry token create)", secs)})
}

// auditRecord writes an audit record with a context of its own.
func (h *handler) auditRecord(rec audit.Record) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h.opts.Audit.Record(ctx, rec)
}
