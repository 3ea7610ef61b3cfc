package api

import (
	"github.com/gantry-dev/gantry/auth"
)

// TokenCreateRequest is the body of POST /api/v1/tokens.
type TokenCreateRequest struct {
	// Name says what the token is for, such as "ci"; empty: "token".
	Name string `json:"name"`
	// Role is granted on each of Envs.
	Role auth.Role `json:"role"`
	// Envs are environment names, or "*" for every environment; at least one.
	Envs []string `json:"envs"`
	// ExpiresIn is a Go duration such as "720h"; empty or "0": never.
	ExpiresIn string `json:"expiresIn,omitempty"`
}

// TokenCreateResponse carries the new token and its secret, shown only
// this once.
type TokenCreateResponse struct {
	Token  TokenInfo `json:"token"`
	Secret string    `json:"secret"`
}

// TokenInfo is a token as listed: never its secret or hash.
type TokenInfo struct {
	auth.Token
	// State is "active", "expired" or "revoked".
	State string `json:"state"`
}

// Error codes of authentication and authorization.
const (
	// CodeUnauthenticated (401): no token, or one that is invalid, expired or revoked.
	CodeUnauthenticated = "unauthenticated"
	// CodeForbidden (403): the token lacks the role the request needs.
	CodeForbidden = "forbidden"
	// CodeNotImplemented (501): the server does not offer this, such as an audit log.
	CodeNotImplemented = "not_implemented"
)
