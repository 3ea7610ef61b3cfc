package auth

import (
	"errors"
	"fmt"
	"strings"
)

// ErrSelfApproval: the approver is the requester.
var ErrSelfApproval = errors.New("four-eyes rule")

// FourEyes returns nil when approver may approve what requester asked:
// both are named and they are different people (compared without regard
// to case and surrounding space). Otherwise it returns an error wrapping
// ErrSelfApproval that says who must approve instead.
func FourEyes(requester, approver string) error {
	r, a := strings.TrimSpace(requester), strings.TrimSpace(approver)
	switch {
	case r == "":
		return fmt.Errorf("%w: the change has no recorded requester, so no one can show they are someone else; ask again with a named token", ErrSelfApproval)
	case a == "":
		return fmt.Errorf("%w: the approval has no approver name; approve with a named token", ErrSelfApproval)
	case strings.EqualFold(r, a):
		return fmt.Errorf("%w: %s requested this change and cannot approve it too; ask another person with role approver", ErrSelfApproval, r)
	}
	return nil
}

// Policy is each environment's access policy.
type Policy struct {
	// RequireApproval lists the environments whose changes need an
	// approval by someone other than the requester (see FourEyes).
	RequireApproval map[string]bool
}

// DefaultPolicy requires four-eyes approval in production, as gantry's
// deployment plan lays out.
func DefaultPolicy() Policy {
	return Policy{RequireApproval: map[string]bool{"production": true}}
}

// NeedsApproval reports whether changes to env need a second person.
func (p Policy) NeedsApproval(env string) bool { return p.RequireApproval[env] }
