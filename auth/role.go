package auth

import (
	"fmt"
	"strings"
)

// Role is what a grant allows on an environment. Roles are ordered: each
// allows everything the ones below it allow.
type Role int

// The roles, lowest first. The zero Role is no role at all.
const (
	// Viewer reads apps, status, history, events and logs.
	Viewer Role = iota + 1
	// Deployer also applies specs, deploys, undoes and steers rollouts.
	Deployer
	// Approver also approves changes that need a second person (four-eyes).
	Approver
	// Admin also manages tokens and reads the audit log.
	Admin
)

var roleNames = map[Role]string{Viewer: "viewer", Deployer: "deployer", Approver: "approver", Admin: "admin"}

// String returns the role's name, such as "deployer"; the zero Role is "none".
func (r Role) String() string {
	if s, ok := roleNames[r]; ok {
		return s
	}
	if r == 0 {
		return "none"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// ParseRole reads a role name as String writes it, ignoring case.
func ParseRole(s string) (Role, error) {
	for r, name := range roleNames {
		if strings.EqualFold(s, name) {
			return r, nil
		}
	}
	return 0, fmt.Errorf("unknown role %q: use viewer, deployer, approver or admin", s)
}

// MarshalText writes the role's name.
func (r Role) MarshalText() ([]byte, error) {
	if _, ok := roleNames[r]; !ok {
		return nil, fmt.Errorf("marshal role: %v is not a role", r)
	}
	return []byte(r.String()), nil
}

// UnmarshalText reads a role's name.
func (r *Role) UnmarshalText(b []byte) error {
	v, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// AllEnvironments is the environment name of a grant that applies to every
// environment.
const AllEnvironments = "*"

// Grant gives a role on one environment, or on every one with Env "*".
type Grant struct {
	Env  string `json:"env"`
	Role Role   `json:"role"`
}

// String writes the grant as "deployer on staging".
func (g Grant) String() string {
	if g.Env == AllEnvironments {
		return g.Role.String() + " on every environment"
	}
	return g.Role.String() + " on " + g.Env
}

// Grants gives role on each of envs.
func Grants(role Role, envs ...string) []Grant {
	gs := make([]Grant, 0, len(envs))
	for _, e := range envs {
		gs = append(gs, Grant{Env: e, Role: role})
	}
	return gs
}
