package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/featureflag"
	"github.com/gantry-dev/gantry/spec"
)

// FlagsPath is the prefix of an environment's flag routes.
const FlagsPath = "/api/v1/environments/{env}/flags"

// SetFlagRequest is the body of PUT /api/v1/environments/{env}/flags/{flag}.
type SetFlagRequest struct {
	// Flag is the definition, as under flags: in a flag file (JSON).
	Flag json.RawMessage `json:"flag"`
	// Base is the version this change was made against; the server
	// answers 409 when the flag has moved on. 0: whatever is current.
	Base int64 `json:"base,omitempty"`
	// Reason is recorded with the version; optional.
	Reason string `json:"reason,omitempty"`
}

// ApplyFlagsRequest is the body of POST /api/v1/environments/{env}/flags:
// a flag file, whose environment must be {env}.
type ApplyFlagsRequest struct {
	// Filename names the file in error messages; empty: flags.yaml.
	Filename string `json:"filename,omitempty"`
	Source   string `json:"source"`
	// Prune deletes the environment's flags the file does not list.
	Prune  bool   `json:"prune,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// RevertFlagRequest is the body of POST …/flags/{flag}/revert.
type RevertFlagRequest struct {
	// ToVersion is the version to return to; 0: the one before the current.
	ToVersion int64  `json:"toVersion,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// FlagChanges answers the flag routes that change flags: what was stored,
// oldest first; empty when nothing changed.
type FlagChanges struct {
	Changes []featureflag.Changed `json:"changes"`
}

// CodeInvalidFlag is the error code of a flag or flag file with problems;
// Details lists them with their positions.
const CodeInvalidFlag = "invalid_flag"

// flagRoutes registers the flag management routes.
func (h *handler) flagRoutes(rt *router) {
	one := FlagsPath + "/{flag}"
	rt.handle("GET "+FlagsPath, need(auth.Viewer, ScopeEnv, "flags.list", "read the flags of {env}"), h.listFlags)
	rt.handle("POST "+FlagsPath, need(auth.Deployer, ScopeEnv, "flags.apply", "apply flags to {env}"), h.applyFlags)
	rt.handle("GET "+one, need(auth.Viewer, ScopeEnv, "flags.get", "read a flag of {env}"), h.getFlag)
	rt.handle("PUT "+one, need(auth.Deployer, ScopeEnv, "flags.set", "set a flag of {env}"), h.setFlag)
	rt.handle("DELETE "+one, need(auth.Deployer, ScopeEnv, "flags.delete", "delete a flag of {env}"), h.deleteFlag)
	rt.handle("GET "+one+"/history", need(auth.Viewer, ScopeEnv, "flags.history", "read a flag's history in {env}"), h.flagHistory)
	rt.handle("POST "+one+"/revert", need(auth.Deployer, ScopeEnv, "flags.revert", "revert a flag of {env}"), h.revertFlag)
}

// catalog returns the flag catalog, answering 501 when the server has none.
func (h *handler) catalog(w http.ResponseWriter) (*featureflag.Catalog, bool) {
	if h.opts.Flags == nil {
		writeError(w, http.StatusNotImplemented, Error{Code: CodeNotImplemented, Message: "this server keeps no feature flags"})
		return nil, false
	}
	return h.opts.Flags, true
}

// listFlags answers GET …/flags with the environment's featureflag.Document
// and its ETag; If-None-Match with that ETag gets 304. featureflag/inprocess
// syncs from here.
func (h *handler) listFlags(w http.ResponseWriter, r *http.Request) {
	c, ok := h.catalog(w)
	if !ok {
		return
	}
	snap, err := c.Snapshot(r.Context(), r.PathValue("env"))
	if err != nil {
		internalError(w, err)
		return
	}
	w.Header().Set("ETag", snap.ETag())
	if etagMatches(r.Header.Get("If-None-Match"), snap.ETag()) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeJSON(w, http.StatusOK, snap.Document())
}

// etagMatches reports whether an If-None-Match header lists etag (or "*").
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

func (h *handler) getFlag(w http.ResponseWriter, r *http.Request) {
	c, ok := h.catalog(w)
	if !ok {
		return
	}
	v, err := c.Get(r.Context(), r.PathValue("env"), r.PathValue("flag"))
	if err != nil {
		flagError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (h *handler) setFlag(w http.ResponseWriter, r *http.Request) {
	c, ok := h.catalog(w)
	if !ok {
		return
	}
	var req SetFlagRequest
	if !decode(w, r, &req) {
		return
	}
	if len(req.Flag) == 0 {
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: "flag is required: the flag's definition, as under flags: in a flag file"})
		return
	}
	key := r.PathValue("flag")
	f, err := featureflag.ParseFlag("flag", key, req.Flag)
	if err != nil {
		invalidFlag(w, "flag "+key, err)
		return
	}
	ch, err := c.Set(r.Context(), r.PathValue("env"), featureflag.Change{Flag: &f, Base: req.Base, Actor: actor(r), Reason: req.Reason})
	h.answerChanges(w, r, ch, err)
}

func (h *handler) deleteFlag(w http.ResponseWriter, r *http.Request) {
	c, ok := h.catalog(w)
	if !ok {
		return
	}
	ch, err := c.Set(r.Context(), r.PathValue("env"), featureflag.Change{Key: r.PathValue("flag"), Actor: actor(r), Reason: r.URL.Query().Get("reason")})
	h.answerChanges(w, r, ch, err)
}

func (h *handler) revertFlag(w http.ResponseWriter, r *http.Request) {
	c, ok := h.catalog(w)
	if !ok {
		return
	}
	var req RevertFlagRequest
	if !decode(w, r, &req) {
		return
	}
	ch, err := c.Revert(r.Context(), r.PathValue("env"), r.PathValue("flag"), req.ToVersion, actor(r), req.Reason)
	h.answerChanges(w, r, ch, err)
}

func (h *handler) flagHistory(w http.ResponseWriter, r *http.Request) {
	c, ok := h.catalog(w)
	if !ok {
		return
	}
	vs, err := c.History(r.Context(), r.PathValue("env"), r.PathValue("flag"))
	if err != nil {
		flagError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, vs)
}

func (h *handler) applyFlags(w http.ResponseWriter, r *http.Request) {
	c, ok := h.catalog(w)
	if !ok {
		return
	}
	var req ApplyFlagsRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Filename == "" {
		req.Filename = "flags.yaml"
	}
	env := r.PathValue("env")
	file, err := featureflag.Parse(req.Filename, []byte(req.Source))
	if err != nil {
		invalidFlag(w, req.Filename, err)
		return
	}
	if file.Environment != env {
		writeError(w, http.StatusBadRequest, Error{Code: CodeInvalidFlag,
			Message: fmt.Sprintf("%s holds the flags of environment %q, not %q: apply it to %s", req.Filename, file.Environment, env, file.Environment)})
		return
	}
	changes := make([]featureflag.Change, 0, len(file.Flags))
	listed := map[string]bool{}
	for _, f := range file.Flags {
		changes = append(changes, featureflag.Change{Flag: &f, Actor: actor(r), Reason: req.Reason})
		listed[f.Key] = true
	}
	if req.Prune {
		current, err := c.List(r.Context(), env)
		if err != nil {
			internalError(w, err)
			return
		}
		for _, v := range current {
			if !listed[v.Key] {
				changes = append(changes, featureflag.Change{Key: v.Key, Actor: actor(r), Reason: req.Reason})
			}
		}
	}
	out, err := c.Apply(r.Context(), env, changes)
	if err != nil {
		flagError(w, err)
		return
	}
	h.auditChanges(w, out)
	writeJSON(w, http.StatusOK, FlagChanges{Changes: nonNil(out)})
}

// answerChanges answers a change of one flag.
func (h *handler) answerChanges(w http.ResponseWriter, _ *http.Request, ch *featureflag.Changed, err error) {
	if err != nil {
		flagError(w, err)
		return
	}
	var out []featureflag.Changed
	if ch != nil {
		out = append(out, *ch)
	}
	h.auditChanges(w, out)
	writeJSON(w, http.StatusOK, FlagChanges{Changes: nonNil(out)})
}

// auditChanges names the flags changed, and from what to what, in the
// request's audit record.
func (h *handler) auditChanges(w http.ResponseWriter, out []featureflag.Changed) {
	if len(out) == 0 {
		setAuditMessage(w, "no change")
		return
	}
	keys := make([]string, len(out))
	says := make([]string, len(out))
	for i, ch := range out {
		keys[i] = "flag " + ch.After.Key
		says[i] = ch.Describe()
	}
	setAuditTarget(w, strings.Join(keys, ", "))
	setAuditMessage(w, strings.Join(says, "; "))
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// invalidFlag answers 400 with a flag's or file's problems.
func invalidFlag(w http.ResponseWriter, what string, err error) {
	var list spec.ErrorList
	if errors.As(err, &list) {
		writeError(w, http.StatusBadRequest, Error{Code: CodeInvalidFlag,
			Message: fmt.Sprintf("%s has %d problem(s): fix them and try again; nothing was changed", what, len(list)), Details: list})
		return
	}
	writeError(w, http.StatusBadRequest, Error{Code: CodeInvalidFlag, Message: err.Error()})
}

// flagError maps the catalog's errors to HTTP.
func flagError(w http.ResponseWriter, err error) {
	var list spec.ErrorList
	switch {
	case errors.As(err, &list):
		invalidFlag(w, "the flag", err)
	case errors.Is(err, featureflag.ErrNotFound):
		writeError(w, http.StatusNotFound, Error{Code: CodeNotFound, Message: err.Error()})
	case errors.Is(err, featureflag.ErrConflict):
		writeError(w, http.StatusConflict, Error{Code: CodeConflict, Message: err.Error() + ": read the flag again and retry"})
	default:
		internalError(w, err)
	}
}
