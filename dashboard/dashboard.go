package dashboard

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/rollout"
)

// DefaultTick is how often the stream reads every app's status.
const DefaultTick = time.Second

// DefaultLinkTTL is how long a one-time sign-in link works.
const DefaultLinkTTL = 2 * time.Minute

// Store is what the stream reads besides status: the applied apps and
// the events.
type Store interface {
	ListApps(ctx context.Context) ([]rollout.AppRecord, error)
	ListEvents(ctx context.Context, f rollout.EventFilter) ([]rollout.Event, error)
}

// API is the API the dashboard stands in front of: every request it does
// not serve itself goes there, and the stream reads status from it.
type API interface {
	http.Handler
	Status(ctx context.Context, app, env string) (api.Status, error)
}

// Options configure a Dashboard.
type Options struct {
	// Key seals session cookies; required, at least 32 bytes (see LoadKey).
	Key []byte
	// Tokens tell a signed-in token's name and roles; required.
	Tokens auth.TokenStore
	// Store lists apps and events for the stream; required.
	Store Store
	// Policy says which environments need a second person to promote, so
	// the page offers Approve there; the zero Policy: none.
	Policy auth.Policy
	// Tick is how often the stream reads status while anyone listens; 0: DefaultTick.
	Tick time.Duration
	// SessionTTL is how long a sign-in lasts; 0: DefaultSessionTTL.
	SessionTTL time.Duration
	// LinkTTL is how long a one-time sign-in link works; 0: DefaultLinkTTL.
	LinkTTL time.Duration
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Logf receives diagnostics; nil: silent.
	Logf func(format string, args ...any)
}

// Dashboard serves the page, its sessions and its stream. One Dashboard
// outlives the API handlers it wraps (a follower's, then a leader's).
type Dashboard struct {
	opts   Options
	sealer *sealer
	hub    *hub
	assets *assets

	mu    sync.Mutex
	links map[string]link // one-time sign-in codes
}

// link is a pending one-time sign-in.
type link struct {
	secret  string
	expires time.Time
}

// New returns a Dashboard.
func New(opts Options) (*Dashboard, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.Tick <= 0 {
		opts.Tick = DefaultTick
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.LinkTTL <= 0 {
		opts.LinkTTL = DefaultLinkTTL
	}
	s, err := newSealer(opts.Key)
	if err != nil {
		return nil, err
	}
	a, err := loadAssets()
	if err != nil {
		return nil, err
	}
	d := &Dashboard{opts: opts, sealer: s, assets: a, links: map[string]link{}}
	d.hub = newHub(d)
	return d, nil
}

// Close ends every open event stream (an HTTP server's shutdown waits for
// them otherwise); browsers reconnect to the next server.
func (d *Dashboard) Close() { d.hub.close() }

// Wrap returns a handler that serves the dashboard and passes every other
// request to a, a signed-in browser's as if it carried its token. The
// stream reads status from the API wrapped last.
func (d *Dashboard) Wrap(a API) http.Handler {
	d.hub.setAPI(a)
	return &handler{d: d, api: a}
}

type handler struct {
	d   *Dashboard
	api API
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d := h.d
	switch {
	case r.URL.Path == "/api/v1/stream":
		h.stream(w, r)
	case strings.HasPrefix(r.URL.Path, "/dashboard/"):
		h.dashboardRoute(w, r)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		if d.assets.serve(w, r) {
			return
		}
		h.toAPI(w, r)
	default:
		h.toAPI(w, r)
	}
}

func (h *handler) dashboardRoute(w http.ResponseWriter, r *http.Request) {
	switch r.Method + " " + r.URL.Path {
	case "POST /dashboard/login":
		h.login(w, r)
	case "GET /dashboard/login":
		h.linkLogin(w, r)
	case "POST /dashboard/logout":
		h.logout(w, r)
	case "GET /dashboard/session":
		h.session(w, r)
	case "POST /dashboard/links":
		h.createLink(w, r)
	case "GET /dashboard/series":
		h.series(w, r)
	default:
		writeError(w, http.StatusNotFound, "not_found", "no dashboard route "+r.Method+" "+r.URL.Path)
	}
}

// toAPI passes r to the API; a request with a valid session cookie and no
// Authorization header carries the session's token, and one that changes
// anything needs the session's CSRF token too.
func (h *handler) toAPI(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		h.api.ServeHTTP(w, r)
		return
	}
	sess, ok := h.d.cookieSession(r)
	if !ok {
		h.api.ServeHTTP(w, r)
		return
	}
	if !safeMethod(r.Method) && !h.d.sealer.csrfOK(sess, r.Header.Get(CSRFHeader)) {
		writeError(w, http.StatusForbidden, "forbidden",
			"a signed-in browser's "+r.Method+" needs the session's "+CSRFHeader+" header (from GET /dashboard/session): reload the page")
		return
	}
	r2 := r.Clone(r.Context())
	r2.Header.Set("Authorization", "Bearer "+sess.Secret)
	h.api.ServeHTTP(w, r2)
}

// CSRFHeader carries a session's CSRF token on requests that change anything.
const CSRFHeader = "X-CSRF-Token"

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// cookieSession returns the request's session, ok false without a valid one.
func (d *Dashboard) cookieSession(r *http.Request) (session, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return session{}, false
	}
	sess, err := d.sealer.open(c.Value, d.opts.Now())
	return sess, err == nil
}

// authenticate returns who r acts as: its bearer token or its session's.
// The API checks the token first (GET /api/v1/version), so a bad token
// is refused, rate-limited and audited as any API call; on failure the
// API's answer is written and ok is false.
func (h *handler) authenticate(w http.ResponseWriter, r *http.Request) (p auth.Principal, secret string, ok bool) {
	secret = auth.BearerToken(r.Header.Get("Authorization"))
	if secret == "" {
		if sess, found := h.d.cookieSession(r); found {
			secret = sess.Secret
		}
	}
	if !h.checkToken(w, r, secret) {
		return p, "", false
	}
	p, err := auth.Authenticate(r.Context(), h.d.opts.Tokens, secret, h.d.opts.Now())
	if err != nil {
		writeError(w, http.StatusUnauthorized, "unauthenticated", err.Error())
		return p, "", false
	}
	return p, secret, true
}

// checkToken asks the API whether secret authenticates; when it does not,
// the API's answer (401, 429) is written to w.
func (h *handler) checkToken(w http.ResponseWriter, r *http.Request, secret string) bool {
	probe, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, "/api/v1/version", nil)
	probe.RemoteAddr = r.RemoteAddr
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		probe.Header.Set("X-Forwarded-For", xff)
	}
	if secret != "" {
		probe.Header.Set("Authorization", "Bearer "+secret)
	}
	rec := httptest.NewRecorder()
	h.api.ServeHTTP(rec, probe)
	if rec.Code == http.StatusOK {
		return true
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
	return false
}
