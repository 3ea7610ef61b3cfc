package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/audit"
)

// CreateToken issues a token; the answer carries its secret, shown only once.
func (c *Client) CreateToken(ctx context.Context, req api.TokenCreateRequest) (api.TokenCreateResponse, error) {
	var out api.TokenCreateResponse
	err := c.do(ctx, http.MethodPost, "/api/v1/tokens", req, &out)
	return out, err
}

// Tokens lists every token, revoked and expired ones too.
func (c *Client) Tokens(ctx context.Context) ([]api.TokenInfo, error) {
	var out []api.TokenInfo
	err := c.do(ctx, http.MethodGet, "/api/v1/tokens", nil, &out)
	return out, err
}

// RevokeToken revokes the token with that ID.
func (c *Client) RevokeToken(ctx context.Context, id string) (api.TokenInfo, error) {
	var out api.TokenInfo
	err := c.do(ctx, http.MethodPost, "/api/v1/tokens/"+url.PathEscape(id)+"/revoke", struct{}{}, &out)
	return out, err
}

// AuditQuery selects audit records; the zero value selects the newest 1000.
type AuditQuery struct {
	Actor, Env, Action string
	// Since keeps records at or after it; zero: all.
	Since time.Time
	// Limit keeps the newest Limit; 0: the server's default, 1000.
	Limit int
}

// Audit lists audit records in sequence order.
func (c *Client) Audit(ctx context.Context, q AuditQuery) ([]audit.Record, error) {
	v := url.Values{}
	for k, s := range map[string]string{"actor": q.Actor, "env": q.Env, "action": q.Action} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out []audit.Record
	err := c.do(ctx, http.MethodGet, "/api/v1/audit?"+v.Encode(), nil, &out)
	return out, err
}

// VerifyAudit checks the audit log's hash chain on the server.
func (c *Client) VerifyAudit(ctx context.Context) (audit.Report, error) {
	var out audit.Report
	err := c.do(ctx, http.MethodGet, "/api/v1/audit/verify", nil, &out)
	return out, err
}
