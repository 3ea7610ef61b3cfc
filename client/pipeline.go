package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/gate"
	"github.com/gantry-dev/gantry/pipeline"
	"github.com/gantry-dev/gantry/release"
)

// DeployWith deploys behind the environment's gates (or, with DryRun,
// only checks them). A refusal is an *Error with code refused_by_gate and
// the gates' results in Body.Gates.
func (c *Client) DeployWith(ctx context.Context, app, env string, req api.DeployRequest) (api.DeployResult, error) {
	var out api.DeployResult
	err := c.do(ctx, http.MethodPost, envPath(app, env)+"/deploy", req, &out)
	return out, err
}

// Promote deploys into env the revision that succeeded in req.From.
func (c *Client) Promote(ctx context.Context, app, env string, req api.PromotionRequest) (api.DeployResult, error) {
	var out api.DeployResult
	err := c.do(ctx, http.MethodPost, envPath(app, env)+"/promotion", req, &out)
	return out, err
}

// Approve records the caller's approval of a version in env.
func (c *Client) Approve(ctx context.Context, app, env string, req api.ApproveRequest) (gate.Approval, error) {
	var out gate.Approval
	err := c.do(ctx, http.MethodPost, envPath(app, env)+"/approvals", req, &out)
	return out, err
}

// StartRun starts a pipeline run.
func (c *Client) StartRun(ctx context.Context, app string, req api.RunRequest) (pipeline.Run, error) {
	var out pipeline.Run
	err := c.do(ctx, http.MethodPost, "/api/v1/apps/"+url.PathEscape(app)+"/pipeline/runs", req, &out)
	return out, err
}

// Runs lists an app's pipeline runs, newest first.
func (c *Client) Runs(ctx context.Context, app string) ([]pipeline.Run, error) {
	var out []pipeline.Run
	err := c.do(ctx, http.MethodGet, "/api/v1/apps/"+url.PathEscape(app)+"/pipeline/runs", nil, &out)
	return out, err
}

// Run reads one pipeline run.
func (c *Client) Run(ctx context.Context, id int64) (pipeline.Run, error) {
	var out pipeline.Run
	err := c.do(ctx, http.MethodGet, "/api/v1/pipeline/runs/"+strconv.FormatInt(id, 10), nil, &out)
	return out, err
}

// CancelRun cancels a pipeline run.
func (c *Client) CancelRun(ctx context.Context, id int64, reason string) (pipeline.Run, error) {
	var out pipeline.Run
	err := c.do(ctx, http.MethodPost, "/api/v1/pipeline/runs/"+strconv.FormatInt(id, 10)+"/cancel", api.CancelRequest{Reason: reason}, &out)
	return out, err
}

// Release reads the release record of version (empty: the stable one) in env.
func (c *Client) Release(ctx context.Context, app, env, version string) (release.Record, error) {
	var out release.Record
	q := ""
	if version != "" {
		q = "?version=" + url.QueryEscape(version)
	}
	err := c.do(ctx, http.MethodGet, envPath(app, env)+"/release"+q, nil, &out)
	return out, err
}
