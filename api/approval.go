package api

import (
	"fmt"
	"net/http"

	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/rollout"
)

// approval guards a request that approves a change, such as promote. An
// environment whose spec sets policy.approval needs its role (approver by
// default) and, unless allowRequester is set, someone other than whoever
// started the environment's running rollout (four-eyes, auth.FourEyes).
// Without one, Options.Policy decides (by default: four-eyes with role
// approver in an environment named production). Elsewhere next runs as is.
func (h *handler) approval(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		app, env := r.PathValue("app"), r.PathValue("env")
		role, fourEyes, source := auth.Approver, true, "the environment's policy requires approval"
		if ap := h.approvalPolicy(r, app, env); ap != nil {
			role, _ = auth.ParseRole(ap.RoleOrDefault())
			fourEyes, source = !ap.AllowRequester, "policy.approval of "+env+" requires it"
		} else if !h.opts.Policy.NeedsApproval(env) {
			next(w, r)
			return
		}
		p, _ := principalOf(r.Context())
		action := fmt.Sprintf("approving a change to %s in %s", app, env)
		if err := p.Allow(action, env, role); err != nil {
			writeError(w, http.StatusForbidden, Error{Code: CodeForbidden, Message: err.Error() + " (" + source + ")"})
			return
		}
		if !fourEyes {
			next(w, r)
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
