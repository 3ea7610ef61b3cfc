package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gantry-dev/gantry/audit"
	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/featureflag"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// Engine is what the API asks of the rollout engine.
type Engine interface {
	Deploy(ctx context.Context, req rollout.DeployRequest) (rollout.Rollout, error)
	Undo(ctx context.Context, app, env string, toRevision int, actor string) (rollout.Rollout, error)
	Promote(ctx context.Context, req rollout.CommandRequest, full bool) (rollout.Rollout, error)
	Abort(ctx context.Context, req rollout.CommandRequest) (rollout.Rollout, error)
	Pause(ctx context.Context, req rollout.CommandRequest) (rollout.Rollout, error)
	Resume(ctx context.Context, req rollout.CommandRequest) (rollout.Rollout, error)
	Retry(ctx context.Context, req rollout.CommandRequest) (rollout.Rollout, error)
	Kick()
}

// Options configure the handler. Store, Engine and Tokens are required.
type Options struct {
	Store  rollout.Store
	Engine Engine
	// Conditions lists an environment's conditions (Status.Conditions);
	// nil: none shown.
	Conditions func(app, env string) []rollout.Condition
	// Analysis returns a running rollout's analysis as it stands
	// (Status.Analysis); nil: none shown.
	Analysis func(rolloutID int64) (rollout.LiveAnalysis, bool)
	// CheckCommand says whether the server can run a local workload's
	// command (see spec.CheckCommand); apply returns its refusal as a
	// warning. Nil: not checked.
	CheckCommand func(command string) error
	// Instances lists an environment's instances; nil: none shown.
	Instances func(app, env string) []rollout.Instance
	// Traffic returns an environment's proxy address and per-revision
	// traffic; nil: none shown.
	Traffic func(app, env string) (addr string, revisions []RevisionTraffic)
	// Scrapes returns the last scrape of each instance of an environment
	// whose metrics gantry scrapes (RevisionStatus.Scrapes); nil: none shown.
	Scrapes func(app, env string) []ScrapeStatus
	// DataPlane reports the data plane's health; nil: none shown.
	DataPlane func() *DataPlane
	// Logs opens one instance's log from tailBytes before its end (0: from
	// its beginning), following new output until ctx ends when follow is
	// set; an unknown instance wraps rollout.ErrNotFound. Nil: logs
	// unavailable.
	Logs func(ctx context.Context, app, env, instance string, tailBytes int64, follow bool, since time.Time) (io.ReadCloser, error)
	// Backends are the names environments[].backend may take on this
	// server; an applied spec naming another is refused with its position.
	// Nil: every backend gantry knows.
	Backends []string
	// Applied is called before an app's spec is stored, so the server can
	// open listeners for new environments; an error is returned to the
	// client and nothing is stored.
	Applied func(ctx context.Context, app spec.App) error
	// DatabaseRollback restores an environment's database and restarts the
	// matching revision; nil: the endpoint answers 501.
	DatabaseRollback DatabaseRollbackFunc
	// Version is gantry's version, served at /api/v1/version.
	Version string
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Tokens authenticates requests; required.
	Tokens auth.TokenStore
	// Audit records every mutating request; nil: none recorded, and the
	// audit routes answer 501.
	Audit *audit.Log
	// Policy says which environments need four-eyes approval; the zero
	// Policy: none.
	Policy auth.Policy
	// Flags keeps every environment's feature flags and serves OFREP
	// from them; nil: the flag routes answer 501.
	Flags *featureflag.Catalog
	// Metrics serves GET /metrics (Prometheus text); nil: no such route.
	Metrics http.Handler
	// Alerts reports the alert rules' alerts (GET /api/v1/alerts); nil:
	// the route answers an empty list (no rule files loaded).
	Alerts func() Alerts
	// AuthLimit bounds failed authentications per source address; the
	// zero AuthLimit: DefaultAuthFailures per DefaultAuthWindow.
	AuthLimit AuthLimit
	// Pipeline deploys behind the environments' gates and runs pipelines
	// (api/pipeline.go); nil: deploys start at once and the pipeline,
	// approval, promotion and release routes answer 501.
	Pipeline *Pipeline
}

// MaxBodyBytes caps every request body.
const MaxBodyBytes = 1 << 20

// NewHandler returns the API's http.Handler.
func NewHandler(opts Options) *Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &handler{opts: opts}
	var record func(audit.Record)
	if opts.Audit != nil {
		record = h.auditRecord
	}
	h.limiter = newAuthLimiter(opts.AuthLimit, opts.Now, record)
	if opts.Tokens == nil {
		panic("api: Options.Tokens is required: every route but /health and /ready authenticates")
	}
	rt := &router{mux: http.NewServeMux(), h: h}
	rt.handle("GET /health", public(), h.health)
	rt.handle("GET /ready", public(), h.health)
	rt.handle("GET /api/v1/version", need(auth.Viewer, ScopeAnywhere, "version", "read gantry's version"), h.version)
	rt.handle("POST /api/v1/apps", need(auth.Deployer, ScopeAnywhere, "apply", "apply an app"), h.apply)
	rt.handle("GET /api/v1/apps", need(auth.Viewer, ScopeAnywhere, "apps.list", "list apps"), h.listApps)
	rt.handle("GET /api/v1/apps/{app}", need(auth.Viewer, ScopeAnywhere, "apps.get", "read app {app}"), h.getApp)
	env := "/api/v1/apps/{app}/environments/{env}"
	rt.handle("POST "+env+"/deploy", need(auth.Deployer, ScopeEnv, "deploy", "deploy {app} to {env}"), h.deploy)
	rt.handle("POST "+env+"/undo", need(auth.Deployer, ScopeEnv, "undo", "undo a rollout of {app} in {env}"), h.undo)
	rt.handle("POST "+env+"/promote", need(auth.Deployer, ScopeEnv, "promote", "promote {app} in {env}"), h.approval(h.command(func(ctx context.Context, c CommandBody, req rollout.CommandRequest) (rollout.Rollout, error) {
		return h.opts.Engine.Promote(ctx, req, c.Full)
	})))
	rt.handle("POST "+env+"/abort", need(auth.Deployer, ScopeEnv, "abort", "abort the rollout of {app} in {env}"), h.command(func(ctx context.Context, _ CommandBody, req rollout.CommandRequest) (rollout.Rollout, error) {
		return h.opts.Engine.Abort(ctx, req)
	}))
	rt.handle("POST "+env+"/pause", need(auth.Deployer, ScopeEnv, "pause", "pause the rollout of {app} in {env}"), h.command(func(ctx context.Context, _ CommandBody, req rollout.CommandRequest) (rollout.Rollout, error) {
		return h.opts.Engine.Pause(ctx, req)
	}))
	rt.handle("POST "+env+"/resume", need(auth.Deployer, ScopeEnv, "resume", "resume the rollout of {app} in {env}"), h.command(func(ctx context.Context, _ CommandBody, req rollout.CommandRequest) (rollout.Rollout, error) {
		return h.opts.Engine.Resume(ctx, req)
	}))
	rt.handle("POST "+env+"/retry", need(auth.Deployer, ScopeEnv, "retry", "retry the rollout of {app} in {env}"), h.command(func(ctx context.Context, _ CommandBody, req rollout.CommandRequest) (rollout.Rollout, error) {
		return h.opts.Engine.Retry(ctx, req)
	}))
	rt.handle("POST "+env+"/database/rollback", need(auth.Deployer, ScopeEnv, "database.rollback", "roll back the database of {app} in {env}"), h.databaseRollback)
	rt.handle("GET "+env+"/status", need(auth.Viewer, ScopeEnv, "status", "read the status of {app} in {env}"), h.status)
	rt.handle("GET "+env+"/rollouts", need(auth.Viewer, ScopeEnv, "history", "read the rollouts of {app} in {env}"), h.history)
	rt.handle("GET "+env+"/revisions", need(auth.Viewer, ScopeEnv, "revisions", "read the revisions of {app} in {env}"), h.revisions)
	rt.handle("GET "+env+"/events", need(auth.Viewer, ScopeEnv, "events", "read the events of {app} in {env}"), h.events)
	rt.handle("GET "+env+"/instances/{instance}/logs", need(auth.Viewer, ScopeEnv, "logs", "read the logs of {app} in {env}"), h.logs)
	rt.handle("GET /api/v1/rollouts/{id}", need(auth.Viewer, ScopeRollout, "rollout.get", "read rollout {id}"), h.getRollout)
	rt.handle("/", need(auth.Viewer, ScopeAnywhere, "route", "call the API"), func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, Error{Code: CodeNotFound,
			Message: fmt.Sprintf("no route %s %s: see the API reference in docs/api.md", r.Method, r.URL.Path)})
	})
	rt.handle("GET /api/v1/openapi.yaml", need(auth.Viewer, ScopeAnywhere, "openapi", "read the API document"), h.openapi)
	rt.handle("POST /api/v1/tokens", need(auth.Admin, ScopeEverywhere, "token.create", "create tokens"), h.createToken)
	rt.handle("GET /api/v1/tokens", need(auth.Admin, ScopeEverywhere, "token.list", "list tokens"), h.listTokens)
	rt.handle("POST /api/v1/tokens/{token}/revoke", need(auth.Admin, ScopeEverywhere, "token.revoke", "revoke tokens"), h.revokeToken)
	rt.handle("GET /api/v1/audit", need(auth.Admin, ScopeEverywhere, "audit.list", "read the audit log"), h.listAudit)
	rt.handle("GET /api/v1/audit/verify", need(auth.Admin, ScopeEverywhere, "audit.verify", "verify the audit log"), h.verifyAudit)
	h.flagRoutes(rt)
	h.ofrepRoutes(rt)
	rt.handle("GET /api/v1/alerts", need(auth.Viewer, ScopeAnywhere, "alerts.list", "list the alerts"), h.alerts)
	h.pipelineRoutes(rt)
	if opts.Metrics != nil {
		rt.handle("GET /metrics", need(auth.Viewer, ScopeAnywhere, "metrics", "read the metrics"), opts.Metrics.ServeHTTP)
	}
	return &Handler{mux: rt.mux, routes: rt.routes, h: h}
}

type handler struct {
	opts    Options
	limiter *authLimiter
}

func (h *handler) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "pass"})
}

func (h *handler) version(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"version": h.opts.Version, "api": "v1"})
}

// actor names who made a request: the token's name.
func actor(r *http.Request) string {
	if p, ok := principalOf(r.Context()); ok {
		return p.Name
	}
	if a := r.Header.Get("X-Gantry-Actor"); a != "" {
		return a
	}
	return "cli"
}

func (h *handler) apply(w http.ResponseWriter, r *http.Request) {
	var req ApplyRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Filename == "" {
		req.Filename = "gantry.yaml"
	}
	app, err := spec.ParseWith(req.Filename, []byte(req.Source), spec.ParseOptions{Backends: h.opts.Backends})
	if err != nil {
		var list spec.ErrorList
		if errors.As(err, &list) {
			writeError(w, http.StatusBadRequest, Error{Code: CodeInvalidSpec,
				Message: fmt.Sprintf("%s has %d problem(s): fix them and apply again", req.Filename, len(list)), Details: list})
			return
		}
		writeError(w, http.StatusBadRequest, Error{Code: CodeInvalidSpec, Message: err.Error()})
		return
	}
	setAuditApp(w, app.Metadata.Name, app.EnvironmentNames())
	ctx := r.Context()
	stored, err := h.opts.Store.GetApp(ctx, app.Metadata.Name)
	created := errors.Is(err, rollout.ErrNotFound)
	if err != nil && !created {
		internalError(w, err)
		return
	}
	if p, ok := principalOf(ctx); ok {
		var old *spec.App
		if !created {
			old = &stored.Spec
		}
		// The role on every environment of the stored and the new spec: a
		// token for staging cannot drop production or change what it runs.
		for _, c := range applyScope(old, app) {
			if err := p.Allow(fmt.Sprintf("apply %s (it %s)", app.Metadata.Name, c), c.Env, auth.Deployer); err != nil {
				writeError(w, http.StatusForbidden, Error{Code: CodeForbidden, Message: err.Error()})
				return
			}
		}
	}
	// Listeners first: a spec whose proxy cannot listen is refused before
	// anything is stored, so a failed apply changes nothing.
	if h.opts.Applied != nil {
		if err := h.opts.Applied(ctx, *app); err != nil {
			writeError(w, http.StatusConflict, Error{Code: CodeConflict, Message: err.Error()})
			return
		}
	}
	if err := h.opts.Store.PutApp(ctx, rollout.AppRecord{Name: app.Metadata.Name, Spec: *app, UpdatedAt: h.opts.Now()}); err != nil {
		internalError(w, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	res := ApplyResponse{App: app.Metadata.Name, Environments: app.EnvironmentNames(), Created: created}
	if h.opts.CheckCommand != nil {
		if fe := spec.CheckCommand(req.Filename, []byte(req.Source), app, h.opts.CheckCommand); fe != nil {
			res.Warnings = append(res.Warnings, fe)
		}
	}
	writeJSON(w, status, res)
}

func (h *handler) listApps(w http.ResponseWriter, r *http.Request) {
	apps, err := h.opts.Store.ListApps(r.Context())
	if err != nil {
		internalError(w, err)
		return
	}
	out := make([]AppSummary, 0, len(apps))
	for _, a := range apps {
		out = append(out, AppSummary{Name: a.Name, Environments: a.Spec.EnvironmentNames(), Spec: a.Spec})
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) getApp(w http.ResponseWriter, r *http.Request) {
	a, ok := h.app(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, AppSummary{Name: a.Name, Environments: a.Spec.EnvironmentNames(), Spec: a.Spec})
}

// app loads the path's app, answering 404 when it is unknown.
func (h *handler) app(w http.ResponseWriter, r *http.Request) (rollout.AppRecord, bool) {
	name := r.PathValue("app")
	a, err := h.opts.Store.GetApp(r.Context(), name)
	if errors.Is(err, rollout.ErrNotFound) {
		writeError(w, http.StatusNotFound, Error{Code: CodeNotFound,
			Message: fmt.Sprintf("app %q is not applied: run gantry apply -f gantry.yaml first", name)})
		return a, false
	}
	if err != nil {
		internalError(w, err)
		return a, false
	}
	return a, true
}

// appEnv loads the path's app and checks its environment exists.
func (h *handler) appEnv(w http.ResponseWriter, r *http.Request) (app, env string, ok bool) {
	a, ok := h.app(w, r)
	if !ok {
		return "", "", false
	}
	env = r.PathValue("env")
	if _, found := a.Spec.Environment(env); !found {
		writeError(w, http.StatusNotFound, Error{Code: CodeNotFound,
			Message: fmt.Sprintf("app %q has no environment %q; its environments are %v", a.Name, env, a.Spec.EnvironmentNames())})
		return "", "", false
	}
	return a.Name, env, true
}

func (h *handler) deploy(w http.ResponseWriter, r *http.Request) {
	app, env, ok := h.appEnv(w, r)
	if !ok {
		return
	}
	var req DeployRequest
	if !decode(w, r, &req) {
		return
	}
	if h.opts.Pipeline != nil {
		h.gatedDeploy(w, r, app, env, req)
		return
	}
	ro, err := h.opts.Engine.Deploy(r.Context(), rollout.DeployRequest{App: app, Env: env, Version: req.Version, Actor: actor(r)})
	if err != nil {
		engineError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, ro)
}

func (h *handler) undo(w http.ResponseWriter, r *http.Request) {
	app, env, ok := h.appEnv(w, r)
	if !ok {
		return
	}
	var req UndoRequest
	if !decode(w, r, &req) {
		return
	}
	if req.ToRevision < 0 {
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: "toRevision must be a revision number ≥ 1, or 0 for the previous one"})
		return
	}
	ro, err := h.opts.Engine.Undo(r.Context(), app, env, req.ToRevision, actor(r))
	if err != nil {
		engineError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, ro)
}

// command handles a rollout command: promote, abort, pause, resume, retry.
func (h *handler) command(do func(context.Context, CommandBody, rollout.CommandRequest) (rollout.Rollout, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		app, env, ok := h.appEnv(w, r)
		if !ok {
			return
		}
		var body CommandBody
		if !decode(w, r, &body) {
			return
		}
		setAuditReason(w, body.Reason)
		ro, err := do(r.Context(), body, rollout.CommandRequest{App: app, Env: env, Actor: actor(r), Why: body.Reason})
		if err != nil {
			engineError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, ro)
	}
}

func (h *handler) getRollout(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: fmt.Sprintf("rollout id %q is not a positive number", r.PathValue("id"))})
		return
	}
	ro, err := h.opts.Store.GetRollout(r.Context(), id)
	if errors.Is(err, rollout.ErrNotFound) {
		writeError(w, http.StatusNotFound, Error{Code: CodeNotFound, Message: fmt.Sprintf("no rollout %d", id)})
		return
	}
	if err != nil {
		internalError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ro)
}

// intQuery reads a non-negative integer query parameter, answering 400 when malformed.
func intQuery(w http.ResponseWriter, r *http.Request, name string, def int64) (int64, bool) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, true
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: fmt.Sprintf("query parameter %s=%q must be a whole number ≥ 0", name, s)})
		return 0, false
	}
	return v, true
}
