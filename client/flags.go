package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/featureflag"
)

func flagsPath(env string) string {
	return "/api/v1/environments/" + url.PathEscape(env) + "/flags"
}

func flagPath(env, key string) string { return flagsPath(env) + "/" + url.PathEscape(key) }

// Flags returns an environment's flags as a snapshot document.
func (c *Client) Flags(ctx context.Context, env string) (featureflag.Document, error) {
	var out featureflag.Document
	return out, c.do(ctx, http.MethodGet, flagsPath(env), nil, &out)
}

// Flag returns a flag's current version.
func (c *Client) Flag(ctx context.Context, env, key string) (featureflag.Version, error) {
	var out featureflag.Version
	return out, c.do(ctx, http.MethodGet, flagPath(env, key), nil, &out)
}

// SetFlag stores f as the flag's new version; base is the version it was
// read at (0: any), so a concurrent change fails with 409 instead of being
// overwritten.
func (c *Client) SetFlag(ctx context.Context, env string, f featureflag.Flag, base int64, reason string) (api.FlagChanges, error) {
	raw, err := json.Marshal(f)
	if err != nil {
		return api.FlagChanges{}, fmt.Errorf("encode flag %s: %w", f.Key, err)
	}
	var out api.FlagChanges
	return out, c.do(ctx, http.MethodPut, flagPath(env, f.Key), api.SetFlagRequest{Flag: raw, Base: base, Reason: reason}, &out)
}

// DeleteFlag deletes a flag (as a new version).
func (c *Client) DeleteFlag(ctx context.Context, env, key, reason string) (api.FlagChanges, error) {
	var out api.FlagChanges
	return out, c.do(ctx, http.MethodDelete, flagPath(env, key)+"?reason="+url.QueryEscape(reason), nil, &out)
}

// ApplyFlags applies a flag file to env.
func (c *Client) ApplyFlags(ctx context.Context, env string, req api.ApplyFlagsRequest) (api.FlagChanges, error) {
	var out api.FlagChanges
	return out, c.do(ctx, http.MethodPost, flagsPath(env), req, &out)
}

// FlagHistory returns every version of a flag, oldest first.
func (c *Client) FlagHistory(ctx context.Context, env, key string) ([]featureflag.Version, error) {
	var out []featureflag.Version
	return out, c.do(ctx, http.MethodGet, flagPath(env, key)+"/history", nil, &out)
}

// RevertFlag stores a flag as it was at version to (0: the previous one).
func (c *Client) RevertFlag(ctx context.Context, env, key string, to int64, reason string) (api.FlagChanges, error) {
	var out api.FlagChanges
	return out, c.do(ctx, http.MethodPost, flagPath(env, key)+"/revert", api.RevertFlagRequest{ToVersion: to, Reason: reason}, &out)
}
