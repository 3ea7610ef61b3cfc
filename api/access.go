package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/rollout"
)

// Scope says which environment a route's role is checked on.
type Scope int

// Scopes. The zero Scope is invalid: every guarded route names one.
const (
	// ScopeEnv: the path's {env}.
	ScopeEnv Scope = iota + 1
	// ScopeRollout: the environment of the path's rollout {id}.
	ScopeRollout
	// ScopeAnywhere: the role on at least one environment.
	ScopeAnywhere
	// ScopeEverywhere: the role on "*", every environment.
	ScopeEverywhere
)

var scopeNames = map[Scope]string{ScopeEnv: "env", ScopeRollout: "rollout", ScopeAnywhere: "anywhere", ScopeEverywhere: "everywhere"}

// String returns the scope's name, such as "env".
func (s Scope) String() string {
	if n, ok := scopeNames[s]; ok {
		return n
	}
	return fmt.Sprintf("Scope(%d)", int(s))
}

// Access says who may call a route. Every route is registered with one;
// the zero Access is refused at registration, so no route can be added
// without saying who may call it.
type Access struct {
	// Public routes need no token (/health, /ready); Role and Scope are ignored.
	Public bool
	// Role is the least role the token needs, on the environment Scope names.
	Role  Role
	Scope Scope
	// Action names what the route does in audit records and denials, such
	// as "deploy"; in a denial, "{app}", "{env}" and "{id}" in Says are
	// replaced from the path ("deploy {app} to {env}"); empty Says: Action.
	Action string
	Says   string
	// ReadOnly marks a POST that changes nothing (an OFREP evaluation):
	// it is not audited.
	ReadOnly bool
}

// Role is auth.Role, repeated so route tables read short.
type Role = auth.Role

// Handler is the API's http.Handler.
type Handler struct {
	mux    *http.ServeMux
	routes []Route
	h      *handler
}

// ServeHTTP routes r to its handler, behind the route's guard.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Routes returns every registered route with its access rule, in the
// order they were registered.
func (h *Handler) Routes() []Route { return slices.Clone(h.routes) }

// Route is one registered route and who may call it.
type Route struct {
	// Pattern is the http.ServeMux pattern, such as "POST /api/v1/apps".
	Pattern string
	Access  Access
}

// Method returns the pattern's method, "" when it has none.
func (r Route) Method() string {
	m, _, ok := strings.Cut(r.Pattern, " ")
	if !ok {
		return ""
	}
	return m
}

// Path returns the pattern's path.
func (r Route) Path() string {
	if _, p, ok := strings.Cut(r.Pattern, " "); ok {
		return p
	}
	return r.Pattern
}

func public() Access { return Access{Public: true} }

func need(role Role, scope Scope, action, says string) Access {
	return Access{Role: role, Scope: scope, Action: action, Says: says}
}

// router registers routes on a mux, each behind its guard. Handlers are
// registered only through handle, which requires an Access.
type router struct {
	mux    *http.ServeMux
	h      *handler
	routes []Route
}

// handle registers fn for pattern behind a guard that enforces a. It
// panics when a says neither Public nor a role, scope and action.
func (rt *router) handle(pattern string, a Access, fn http.HandlerFunc) {
	if !a.Public && (a.Role < auth.Viewer || a.Scope == 0 || a.Action == "") {
		panic(fmt.Sprintf("api: route %q has no access rule: give it public() or need(role, scope, action, says)", pattern))
	}
	route := Route{Pattern: pattern, Access: a}
	rt.routes = append(rt.routes, route)
	rt.mux.Handle(pattern, rt.h.guard(route, fn))
}

type principalKey struct{}

// principalOf returns the request's authenticated principal.
func principalOf(ctx context.Context) (auth.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(auth.Principal)
	return p, ok
}

// mutating reports whether a request changes state, so it is audited.
func mutating(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// guard authenticates the request, checks its role, runs fn and audits
// mutating requests, denied ones too.
func (h *handler) guard(route Route, fn http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if route.Access.Public {
			fn(w, r)
			return
		}
		rec := &recorder{ResponseWriter: w}
		var p auth.Principal
		audited := mutating(r.Method) && !route.Access.ReadOnly && h.opts.Audit != nil
		defer func() {
			if audited {
				h.auditRequest(r, route, p, rec)
			}
		}()
		// A source over its limit of failed authentications is refused
		// before its token is looked at; its refusals are audited in
		// aggregate, as are its failures after the first.
		if retry, over := h.limiter.refuse(r); over {
			audited = false
			writeRateLimited(rec, retry)
			return
		}
		p, err := auth.Authenticate(r.Context(), h.opts.Tokens, auth.BearerToken(r.Header.Get("Authorization")), h.opts.Now())
		if err != nil {
			if !errors.Is(err, auth.ErrUnauthenticated) {
				internalError(rec, err)
				return
			}
			if !h.limiter.failed(r) {
				audited = false
			}
			rec.Header().Set("WWW-Authenticate", `Bearer realm="gantry"`)
			writeError(rec, http.StatusUnauthorized, Error{Code: CodeUnauthenticated, Message: strings.TrimPrefix(err.Error(), auth.ErrUnauthenticated.Error()+": ")})
			return
		}
		env, ok := h.scopeEnv(rec, r, route.Access.Scope)
		if !ok {
			return
		}
		if err := p.Allow(says(route.Access, r), env, route.Access.Role); err != nil {
			writeError(rec, http.StatusForbidden, Error{Code: CodeForbidden, Message: err.Error()})
			return
		}
		fn(rec, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// scopeEnv returns the environment the role is checked on: a name, "*"
// for every environment, "" for any one.
func (h *handler) scopeEnv(w http.ResponseWriter, r *http.Request, s Scope) (string, bool) {
	switch s {
	case ScopeEnv:
		return r.PathValue("env"), true
	case ScopeEverywhere:
		return auth.AllEnvironments, true
	case ScopeRollout:
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id < 1 {
			writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: fmt.Sprintf("rollout id %q is not a positive number", r.PathValue("id"))})
			return "", false
		}
		ro, err := h.opts.Store.GetRollout(r.Context(), id)
		if errors.Is(err, rollout.ErrNotFound) {
			writeError(w, http.StatusNotFound, Error{Code: CodeNotFound, Message: fmt.Sprintf("no rollout %d", id)})
			return "", false
		}
		if err != nil {
			internalError(w, err)
			return "", false
		}
		return ro.Env, true
	}
	return "", true
}

// says describes the request for a denial.
func says(a Access, r *http.Request) string {
	s := a.Says
	if s == "" {
		s = a.Action
	}
	for _, name := range []string{"app", "env", "id"} {
		s = strings.ReplaceAll(s, "{"+name+"}", r.PathValue(name))
	}
	return s
}

// recorder remembers the status answered and the start of an error body,
// for the audit record.
type recorder struct {
	http.ResponseWriter
	status  int
	body    []byte
	target  string // see setAuditTarget
	message string // see setAuditMessage
	app     string // see setAuditApp
	envs    []string
	reason  string // see setAuditReason
}

func (rec *recorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
	rec.ResponseWriter.WriteHeader(status)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status >= 400 && len(rec.body) < 4096 {
		rec.body = append(rec.body, b[:min(len(b), 4096-len(rec.body))]...)
	}
	return rec.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (log streaming).
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// Flush passes flushes on to streaming handlers' writers.
func (rec *recorder) Flush() {
	if f, ok := rec.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
