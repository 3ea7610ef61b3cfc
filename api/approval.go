package api

import (
	"fmt"
	"net/http"

	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/rollout"
)

// approval guards a request that approves a change, such as promote. In
// an environment whose policy requires approval, the token needs role
// approver, and must not be the one that started the environment's
// running rollout (four-eyes, auth.FourEyes). Elsewhere next runs as is.
func (h *handler) approval(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		app, env := r.PathValue("app"), r.PathValue("env")
		if !h.opts.Policy.NeedsApproval(env) {
			next(w, r)
			return
		}
		p, _ := principalOf(r.Context())
		action := fmt.Sprintf("approving a change to %s in %s", app, env)
		if err := p.Allow(action, env, auth.Approver); err != nil {
			writeError(w, http.StatusForbidden, Error{Code: CodeForbidden, Message: err.Error() + " (the environment's policy requires approval)"})
			return
		}
		active, err := h.opts.Store.ListRollouts(r.Context(), rollout.RolloutFilter{App: app, Env: env, Active: true})
		if err != nil {
			internalError(w, err)
			return
		}
		for _, ro := range active {
			if err := auth.FourEyes(ro.Actor, p.Name); err != nil {
				writeError(w, http.StatusForbidden, Error{Code: CodeForbidden,
					Message: fmt.Sprintf("rollout %d of %s in %s: %v", ro.ID, app, env, err)})
				return
			}
		}
		next(w, r)
	}
}
