package api

import (
	"net/http"

	"github.com/gantry-dev/gantry/spec"
)

// approvalPolicy returns the approval policy the applied spec sets for
// env, or nil when it sets none (or the app is unknown: the handler then
// answers 404 itself).
func (h *handler) approvalPolicy(r *http.Request, app, env string) *spec.ApprovalPolicy {
	a, err := h.opts.Store.GetApp(r.Context(), app)
	if err != nil {
		return nil
	}
	e, ok := a.Spec.Environment(env)
	if !ok || e.Policy == nil {
		return nil
	}
	return e.Policy.Approval
}
