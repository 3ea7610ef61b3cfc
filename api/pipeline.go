package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/gate"
	"github.com/gantry-dev/gantry/pipeline"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// Pipeline is what the gated deploy, approval, promotion, pipeline and
// release routes use.
type Pipeline struct {
	// Deployer deploys behind the gates; required.
	Deployer *pipeline.Deployer
	// Runner carries out pipeline runs; nil: the pipeline routes answer 501.
	Runner *pipeline.Runner
	// Store keeps approvals, checks and runs; required.
	Store pipeline.Store
	// ReadFile reads a file the spec names (releaseNotes.changelog),
	// relative to the server's base directory; nil: no release notes.
	ReadFile func(path string) ([]byte, error)
}

// CodeRefusedByGate is the error code of a deploy a gate refused; the
// error's gates list every result.
const CodeRefusedByGate = "refused_by_gate"

func (h *handler) pipelineRoutes(rt *router) {
	env := "/api/v1/apps/{app}/environments/{env}"
	rt.handle("POST "+env+"/approvals", need(auth.Approver, ScopeEnv, "approve", "approve a version of {app} in {env}"), h.approve)
	rt.handle("GET "+env+"/approvals", need(auth.Viewer, ScopeEnv, "approvals", "read the approvals of {app} in {env}"), h.listApprovals)
	rt.handle("POST "+env+"/promotion", need(auth.Deployer, ScopeEnv, "promotion", "promote {app} into {env}"), h.promotion)
	rt.handle("GET "+env+"/release", need(auth.Viewer, ScopeEnv, "release", "read a release of {app} in {env}"), h.release)
	rt.handle("POST /api/v1/apps/{app}/pipeline/runs", need(auth.Deployer, ScopeAnywhere, "pipeline.run", "run the pipeline of {app}"), h.startRun)
	rt.handle("GET /api/v1/apps/{app}/pipeline/runs", need(auth.Viewer, ScopeAnywhere, "pipeline.list", "read the pipeline runs of {app}"), h.listRuns)
	rt.handle("GET /api/v1/pipeline/runs/{id}", need(auth.Viewer, ScopeAnywhere, "pipeline.get", "read pipeline run {id}"), h.getRun)
	rt.handle("POST /api/v1/pipeline/runs/{id}/cancel", need(auth.Deployer, ScopeAnywhere, "pipeline.cancel", "cancel pipeline run {id}"), h.cancelRun)
}

// pipeline returns the Pipeline, answering 501 when there is none.
func (h *handler) pipeline(w http.ResponseWriter) (*Pipeline, bool) {
	if h.opts.Pipeline == nil {
		writeError(w, http.StatusNotImplemented, Error{Code: CodeNotImplemented, Message: "this server runs no gates or pipelines"})
		return nil, false
	}
	return h.opts.Pipeline, true
}

// appEnvironment loads the path's app and environment, answering 404
// itself when either is unknown.
func (h *handler) appEnvironment(w http.ResponseWriter, r *http.Request) (rollout.AppRecord, spec.Environment, bool) {
	a, ok := h.app(w, r)
	if !ok {
		return a, spec.Environment{}, false
	}
	env := r.PathValue("env")
	e, found := a.Spec.Environment(env)
	if !found {
		writeError(w, http.StatusNotFound, Error{Code: CodeNotFound, Message: fmt.Sprintf("app %q has no environment %q; its environments are %v", a.Name, env, a.Spec.EnvironmentNames())})
	}
	return a, e, found
}

// pipelineFor decodes a POST's body into v, then returns the Pipeline;
// it answers 400/413 or 501 itself.
func (h *handler) pipelineFor(w http.ResponseWriter, r *http.Request, v any) (*Pipeline, bool) {
	if !decode(w, r, v) {
		return nil, false
	}
	return h.pipeline(w)
}

// DeployResult is the answer to a deploy behind gates: the rollout's
// fields, and the gates' results.
type DeployResult struct {
	*rollout.Rollout
	// DryRun: nothing was deployed.
	DryRun bool `json:"dryRun,omitempty"`
	// Passed: no gate blocks the deploy.
	Passed bool           `json:"passed"`
	Gates  gate.Checklist `json:"gates"`
}

func (h *handler) gatedDeploy(w http.ResponseWriter, r *http.Request, app, env string, req DeployRequest) {
	if req.OverrideReason != "" {
		setAuditReason(w, "emergency override: "+req.OverrideReason)
	}
	out, err := h.opts.Pipeline.Deployer.Deploy(r.Context(), pipeline.Request{App: app, Env: env, Version: req.Version,
		Actor: actor(r), Override: strings.TrimSpace(req.OverrideReason), DryRun: req.DryRun})
	h.deployAnswer(w, out, req.DryRun, err)
}

func (h *handler) deployAnswer(w http.ResponseWriter, out pipeline.Outcome, dryRun bool, err error) {
	switch {
	case errors.Is(err, pipeline.ErrRefused):
		writeError(w, http.StatusConflict, Error{Code: CodeRefusedByGate, Message: err.Error(), Gates: out.Checklist})
	case err != nil:
		engineError(w, err)
	case dryRun:
		writeJSON(w, http.StatusOK, DeployResult{DryRun: true, Passed: out.Checklist.Passed(), Gates: out.Checklist})
	default:
		writeJSON(w, http.StatusCreated, DeployResult{Rollout: out.Rollout, Passed: true, Gates: out.Checklist})
	}
}

// ApproveRequest is the body of POST .../approvals.
type ApproveRequest struct {
	Version string `json:"version"`
	Comment string `json:"comment,omitempty"`
}

func (h *handler) approve(w http.ResponseWriter, r *http.Request) {
	var req ApproveRequest
	pl, ok := h.pipelineFor(w, r, &req)
	if !ok {
		return
	}
	a, e, ok := h.appEnvironment(w, r)
	if !ok {
		return
	}
	env := e.Name
	if err := rollout.CheckVersion(req.Version); err != nil {
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: err.Error()})
		return
	}
	setAuditReason(w, "approve "+req.Version+": "+req.Comment)
	ap := spec.ApprovalPolicy{}
	if e.Policy != nil && e.Policy.Approval != nil {
		ap = *e.Policy.Approval
	}
	p, _ := principalOf(r.Context())
	role, _ := auth.ParseRole(ap.RoleOrDefault())
	if err := p.Allow(fmt.Sprintf("approving %s %s in %s", a.Name, req.Version, env), env, role); err != nil {
		writeError(w, http.StatusForbidden, Error{Code: CodeForbidden, Message: err.Error()})
		return
	}
	if !ap.AllowRequester && pl.Runner != nil {
		runs, err := pl.Store.ListRuns(r.Context(), a.Name, true)
		if err != nil {
			internalError(w, err)
			return
		}
		for _, run := range runs {
			if run.Version != req.Version {
				continue
			}
			if err := auth.FourEyes(run.Actor, p.Name); err != nil {
				writeError(w, http.StatusForbidden, Error{Code: CodeForbidden, Message: fmt.Sprintf("pipeline run %d of %s %s: %v", run.ID, a.Name, req.Version, err)})
				return
			}
		}
	}
	appr := gate.Approval{App: a.Name, Env: env, Version: req.Version, Approver: p.Name, Comment: req.Comment, At: h.opts.Now()}
	if err := pl.Store.AddApproval(r.Context(), appr); err != nil {
		internalError(w, err)
		return
	}
	h.opts.Store.AppendEvent(r.Context(), rollout.Event{Time: appr.At, App: a.Name, Env: env, Type: rollout.Normal, Reason: rollout.ReasonApproved,
		Message: fmt.Sprintf("%s approved %s for %s", p.Name, req.Version, env), Actor: p.Name,
		Details: &rollout.Details{Version: req.Version, Why: req.Comment}})
	writeJSON(w, http.StatusCreated, appr)
}

func (h *handler) listApprovals(w http.ResponseWriter, r *http.Request) {
	pl, ok := h.pipeline(w)
	if !ok {
		return
	}
	app, env, ok := h.appEnv(w, r)
	if !ok {
		return
	}
	list, err := pl.Store.ListApprovals(r.Context(), app, env, r.URL.Query().Get("version"))
	if err != nil {
		internalError(w, err)
		return
	}
	if list == nil {
		list = []gate.Approval{}
	}
	writeJSON(w, http.StatusOK, list)
}

// PromotionRequest is the body of POST .../promotion: deploy to the
// path's environment the revision that succeeded in From.
type PromotionRequest struct {
	// From is the environment to promote from; empty: the environment's
	// promoteFrom.
	From string `json:"from,omitempty"`
	// Version is deployed instead of From's stable version; only with
	// OverrideReason (an unproven version).
	Version        string `json:"version,omitempty"`
	OverrideReason string `json:"overrideReason,omitempty"`
	DryRun         bool   `json:"dryRun,omitempty"`
}

func (h *handler) promotion(w http.ResponseWriter, r *http.Request) {
	var req PromotionRequest
	if _, ok := h.pipelineFor(w, r, &req); !ok {
		return
	}
	a, e, ok := h.appEnvironment(w, r)
	if !ok {
		return
	}
	env := e.Name
	from := req.From
	if from == "" {
		from = e.PromoteFrom
	}
	if _, ok := a.Spec.Environment(from); !ok || from == env {
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: fmt.Sprintf(
			"promote into %s from %q: name another environment of %s with --from (one of %v), or set environments[].promoteFrom", env, from, a.Name, a.Spec.EnvironmentNames())})
		return
	}
	if e.PromoteFrom != "" && from != e.PromoteFrom {
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: fmt.Sprintf("%s promotes from %s (environments[].promoteFrom), not from %s", env, e.PromoteFrom, from)})
		return
	}
	version := req.Version
	if version == "" {
		_, v, err := pipeline.StableRevision(r.Context(), h.opts.Store, a.Name, from)
		if err != nil {
			internalError(w, err)
			return
		}
		if v == "" {
			writeError(w, http.StatusConflict, Error{Code: CodeConflict, Message: fmt.Sprintf("nothing to promote: %s has no stable revision in %s; deploy there first", a.Name, from)})
			return
		}
		version = v
	} else if req.OverrideReason == "" {
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: "version names a version other than " + from + "'s stable one, which only an emergency override may deploy: add --override-reason"})
		return
	}
	if req.OverrideReason != "" {
		setAuditReason(w, "emergency override: "+req.OverrideReason)
	}
	out, err := h.promote(r.Context(), a.Spec, from, pipeline.Request{App: a.Name, Env: env, Version: version, Actor: actor(r),
		Override: strings.TrimSpace(req.OverrideReason), DryRun: req.DryRun})
	h.deployAnswer(w, out, req.DryRun, err)
}

// promote deploys req behind the gates; when the environment declares no
// promoteFrom, the promotion gate is run here, against from.
func (h *handler) promote(ctx context.Context, app spec.App, from string, req pipeline.Request) (pipeline.Outcome, error) {
	d := h.opts.Pipeline.Deployer
	if e, _ := app.Environment(req.Env); e.PromoteFrom != "" {
		return d.Deploy(ctx, req)
	}
	proof, _, err := pipeline.FindProof(ctx, h.opts.Store, &app, from, req.Version)
	if err != nil {
		return pipeline.Outcome{}, err
	}
	if res := gate.CheckPromotion(req.Version, proof, req.Override); res.Blocks() {
		return pipeline.Outcome{Checklist: gate.Checklist{res}}, fmt.Errorf("%w: promote %s %s into %s: gate promotion: %s", pipeline.ErrRefused, req.App, req.Version, req.Env, res.Reason)
	}
	return d.Deploy(ctx, req)
}

// RunRequest is the body of POST /api/v1/apps/{app}/pipeline/runs.
type RunRequest struct {
	Version        string `json:"version"`
	OverrideReason string `json:"overrideReason,omitempty"`
}

func (h *handler) startRun(w http.ResponseWriter, r *http.Request) {
	var req RunRequest
	pl, ok := h.pipelineFor(w, r, &req)
	if !ok {
		return
	}
	if pl.Runner == nil {
		writeError(w, http.StatusNotImplemented, Error{Code: CodeNotImplemented, Message: "this server runs no pipelines"})
		return
	}
	a, ok := h.app(w, r)
	if !ok {
		return
	}
	setAuditApp(w, a.Name, a.Spec.EnvironmentNames())
	if req.OverrideReason != "" {
		setAuditReason(w, "emergency override: "+req.OverrideReason)
	}
	p, _ := principalOf(r.Context())
	for _, env := range a.Spec.EnvironmentNames() {
		if err := p.Allow(fmt.Sprintf("run the pipeline of %s (it deploys to %s)", a.Name, env), env, auth.Deployer); err != nil {
			writeError(w, http.StatusForbidden, Error{Code: CodeForbidden, Message: err.Error()})
			return
		}
	}
	run, err := pl.Runner.Start(r.Context(), a.Name, req.Version, actor(r), strings.TrimSpace(req.OverrideReason))
	switch {
	case errors.Is(err, pipeline.ErrRunning):
		writeError(w, http.StatusConflict, Error{Code: CodeConflict, Message: err.Error()})
	case err != nil:
		engineError(w, err)
	default:
		writeJSON(w, http.StatusCreated, run)
	}
}

func (h *handler) listRuns(w http.ResponseWriter, r *http.Request) {
	pl, ok := h.pipeline(w)
	if !ok {
		return
	}
	a, ok := h.app(w, r)
	if !ok {
		return
	}
	runs, err := pl.Store.ListRuns(r.Context(), a.Name, false)
	if err != nil {
		internalError(w, err)
		return
	}
	if runs == nil {
		runs = []pipeline.Run{}
	}
	writeJSON(w, http.StatusOK, runs)
}

// run loads the path's run, answering 400 or 404 itself.
func (h *handler) run(w http.ResponseWriter, r *http.Request, pl *Pipeline) (pipeline.Run, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: fmt.Sprintf("pipeline run id %q is not a positive number", r.PathValue("id"))})
		return pipeline.Run{}, false
	}
	run, err := pl.Store.GetRun(r.Context(), id)
	if errors.Is(err, rollout.ErrNotFound) {
		writeError(w, http.StatusNotFound, Error{Code: CodeNotFound, Message: fmt.Sprintf("no pipeline run %d", id)})
		return run, false
	}
	if err != nil {
		internalError(w, err)
		return run, false
	}
	return run, true
}

func (h *handler) getRun(w http.ResponseWriter, r *http.Request) {
	pl, ok := h.pipeline(w)
	if !ok {
		return
	}
	if run, ok := h.run(w, r, pl); ok {
		writeJSON(w, http.StatusOK, run)
	}
}

// CancelRequest is the body of POST /api/v1/pipeline/runs/{id}/cancel.
type CancelRequest struct {
	// Reason is kept in the audit log.
	Reason string `json:"reason,omitempty"`
}

func (h *handler) cancelRun(w http.ResponseWriter, r *http.Request) {
	var req CancelRequest
	pl, ok := h.pipelineFor(w, r, &req)
	if !ok {
		return
	}
	setAuditReason(w, req.Reason)
	run, ok := h.run(w, r, pl)
	if !ok {
		return
	}
	setAuditApp(w, run.App, nil)
	p, _ := principalOf(r.Context())
	for _, s := range run.Stages {
		if err := p.Allow(fmt.Sprintf("cancel pipeline run %d (it deploys to %s)", run.ID, s.Env), s.Env, auth.Deployer); err != nil {
			writeError(w, http.StatusForbidden, Error{Code: CodeForbidden, Message: err.Error()})
			return
		}
	}
	if pl.Runner == nil || run.State.Final() {
		writeError(w, http.StatusConflict, Error{Code: CodeConflict, Message: fmt.Sprintf("pipeline run %d has ended (%s)", run.ID, run.State)})
		return
	}
	run, err := pl.Runner.Cancel(r.Context(), run.ID, actor(r))
	if err != nil {
		internalError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}
