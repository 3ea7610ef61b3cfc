package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/spec"
)

func (h *handler) createToken(w http.ResponseWriter, r *http.Request) {
	var req TokenCreateRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Role == 0 {
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: `field "role" is required: viewer, deployer, approver or admin`})
		return
	}
	if len(req.Envs) == 0 {
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: `field "envs" is required: name at least one environment, or "*" for every environment`})
		return
	}
	if ok := h.knownEnvs(w, r, req.Envs); !ok {
		return
	}
	var ttl time.Duration
	if req.ExpiresIn != "" {
		d, err := time.ParseDuration(req.ExpiresIn)
		if err != nil || d < 0 {
			writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: fmt.Sprintf(`field "expiresIn" = %q is not a duration ≥ 0 such as "720h" (0: never expires)`, req.ExpiresIn)})
			return
		}
		ttl = d
	}
	p, _ := principalOf(r.Context())
	secret, t, err := auth.Issue(r.Context(), h.opts.Tokens, auth.IssueRequest{
		Name: req.Name, Grants: auth.Grants(req.Role, req.Envs...), TTL: ttl, CreatedBy: p.Name, Now: h.opts.Now(),
	})
	if err != nil {
		if errors.Is(err, auth.ErrInvalidRequest) {
			writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: err.Error()})
			return
		}
		internalError(w, err)
		return
	}
	setAuditTarget(w, t.ID)
	writeJSON(w, http.StatusCreated, TokenCreateResponse{Token: TokenInfo{Token: t, State: t.State(h.opts.Now())}, Secret: secret})
}

func (h *handler) listTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := h.opts.Tokens.ListTokens(r.Context())
	if err != nil {
		internalError(w, err)
		return
	}
	now := h.opts.Now()
	out := make([]TokenInfo, 0, len(ts))
	for _, t := range ts {
		out = append(out, TokenInfo{Token: t, State: t.State(now)})
	}
	writeJSON(w, http.StatusOK, out)
}

// knownEnvs checks that every environment a token is to be granted on is
// an environment of an applied app, or "*"; it answers 400 otherwise.
func (h *handler) knownEnvs(w http.ResponseWriter, r *http.Request, envs []string) bool {
	apps, err := h.opts.Store.ListApps(r.Context())
	if err != nil {
		internalError(w, err)
		return false
	}
	known := map[string]bool{}
	var names []string
	for _, a := range apps {
		for _, e := range a.Spec.EnvironmentNames() {
			if !known[e] {
				known[e] = true
				names = append(names, e)
			}
		}
	}
	for _, e := range envs {
		if e == auth.AllEnvironments || known[e] {
			continue
		}
		msg := fmt.Sprintf("no applied app has an environment %q", e)
		if s, ok := spec.Closest(e, names); ok {
			msg += fmt.Sprintf("; did you mean %q?", s)
		} else if len(names) > 0 {
			slices.Sort(names)
			msg += "; the environments are " + strings.Join(names, ", ")
		}
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: msg + " (apply the app first, or grant '*' for every environment)"})
		return false
	}
	return true
}

func (h *handler) revokeToken(w http.ResponseWriter, r *http.Request) {
	var req struct{} // no fields yet; a body keeps revoke a JSON POST like the others
	if !decode(w, r, &req) {
		return
	}
	id := r.PathValue("token")
	setAuditTarget(w, id)
	t, err := h.opts.Tokens.RevokeToken(r.Context(), id, h.opts.Now())
	if errors.Is(err, auth.ErrNotFound) {
		writeError(w, http.StatusNotFound, Error{Code: CodeNotFound, Message: fmt.Sprintf("no token %q: list them with gantry token list", id)})
		return
	}
	if err != nil {
		internalError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, TokenInfo{Token: t, State: t.State(h.opts.Now())})
}
