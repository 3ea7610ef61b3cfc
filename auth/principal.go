package auth

import (
	"fmt"
	"strings"
)

// Principal is who an authenticated request acts as: one token.
type Principal struct {
	TokenID string  `json:"tokenId"`
	Name    string  `json:"name"`
	Grants  []Grant `json:"grants"`
}

// Role returns the highest role p holds on env: from its grants on env
// and on "*". For env "*" only grants on "*" count. Zero: none.
func (p Principal) Role(env string) Role {
	var best Role
	for _, g := range p.Grants {
		if g.Env == AllEnvironments || (env != AllEnvironments && g.Env == env) {
			best = max(best, g.Role)
		}
	}
	return best
}

// HasAnywhere reports whether p holds at least role need on some environment.
func (p Principal) HasAnywhere(need Role) bool {
	for _, g := range p.Grants {
		if g.Role >= need {
			return true
		}
	}
	return false
}

// Denied is the error of a request whose token lacks the role it needs.
type Denied struct {
	// Action says what was asked, such as "deploy to production".
	Action string
	Env    string
	Need   Role
	Token  Principal
}

func (d *Denied) Error() string {
	where := "on environment " + d.Env
	switch d.Env {
	case AllEnvironments:
		where = `on every environment ("*")`
	case "":
		where = "on some environment"
	}
	return fmt.Sprintf("%s needs role %s %s; token '%s' has %s", d.Action, d.Need, where, d.Token.Name, d.Token.describe(d.Env))
}

// describe says what p holds that matters for env, such as "viewer" or
// "deployer on staging, viewer on production".
func (p Principal) describe(env string) string {
	if env != "" && env != AllEnvironments {
		if r := p.Role(env); r != 0 {
			return r.String()
		}
	}
	if len(p.Grants) == 0 {
		return "no roles"
	}
	parts := make([]string, 0, len(p.Grants))
	for _, g := range p.Grants {
		parts = append(parts, g.String())
	}
	prefix := ""
	if env != "" && env != AllEnvironments {
		prefix = "no role there; it has "
	}
	return prefix + strings.Join(parts, ", ")
}

// Allow returns nil when p holds role need on env ("*": on every
// environment; "": on at least one), else a *Denied for action.
func (p Principal) Allow(action, env string, need Role) error {
	ok := false
	if env == "" {
		ok = p.HasAnywhere(need)
	} else {
		ok = p.Role(env) >= need
	}
	if ok {
		return nil
	}
	return &Denied{Action: action, Env: env, Need: need, Token: p}
}
