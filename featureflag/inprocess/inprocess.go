// Package inprocess evaluates an environment's feature flags inside a Go
// program, from a snapshot it syncs from gantry server: one HTTP request
// per interval (answered 304 while nothing changed), and no request at all
// per evaluation. Evaluations give exactly what OFREP gives for the same
// snapshot, sticky percentages included.
//
//	flags, err := inprocess.New(ctx, inprocess.Options{Server: "http://127.0.0.1:7070", Env: "production", Token: token})
//	go flags.Run(ctx)
//	if flags.Bool("new-ai-agent", featureflag.Context{"targetingKey": userID}, false) { … }
package inprocess

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gantry-dev/gantry/featureflag"
)

// Options configure a Client. Server and Env are required.
type Options struct {
	// Server is gantry server's API URL, such as http://127.0.0.1:7070.
	Server string
	// Env is the environment whose flags to evaluate.
	Env string
	// Token is an API token with role viewer on Env.
	Token string
	// Interval is how often Run syncs; 0: 10s.
	Interval time.Duration
	// HTTPClient makes the requests; nil: one with a 10s timeout.
	HTTPClient *http.Client
	// Logf receives sync errors in Run (the last snapshot stays in use); nil: silent.
	Logf func(format string, args ...any)
}

// Client holds the newest snapshot synced; safe for concurrent use.
type Client struct {
	opts Options
	snap atomic.Pointer[featureflag.Snapshot]
	etag atomic.Pointer[string]
}

// New syncs the first snapshot and returns a Client; it fails when the
// server cannot be read, so a program does not start on no flags at all.
func New(ctx context.Context, opts Options) (*Client, error) {
	if opts.Server == "" || opts.Env == "" {
		return nil, fmt.Errorf("inprocess: Options.Server and Options.Env are required")
	}
	if opts.Interval == 0 {
		opts.Interval = 10 * time.Second
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	c := &Client{opts: opts}
	if _, err := c.Sync(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Sync fetches the environment's flags unless they are unchanged since the
// last sync (ETag), and reports whether they changed.
func (c *Client) Sync(ctx context.Context) (changed bool, err error) {
	u := strings.TrimRight(c.opts.Server, "/") + "/api/v1/environments/" + url.PathEscape(c.opts.Env) + "/flags"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, fmt.Errorf("sync flags: %w", err)
	}
	if c.opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.opts.Token)
	}
	if e := c.etag.Load(); e != nil {
		req.Header.Set("If-None-Match", *e)
	}
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return false, fmt.Errorf("sync flags of %s from %s: %w", c.opts.Env, c.opts.Server, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		return false, nil
	case http.StatusOK:
	default:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return false, fmt.Errorf("sync flags of %s: %s: %s", c.opts.Env, resp.Status, strings.TrimSpace(string(b)))
	}
	var doc featureflag.Document
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return false, fmt.Errorf("sync flags of %s: decode: %w", c.opts.Env, err)
	}
	snap, err := featureflag.NewSnapshot(doc)
	if err != nil {
		return false, fmt.Errorf("sync flags of %s: %w", c.opts.Env, err)
	}
	etag := resp.Header.Get("ETag")
	c.snap.Store(snap)
	c.etag.Store(&etag)
	return true, nil
}

// Run syncs every Interval until ctx ends; a failed sync is logged and
// the last snapshot stays in use. It returns nil when ctx ends.
func (c *Client) Run(ctx context.Context) error {
	t := time.NewTicker(c.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := c.Sync(ctx); err != nil && ctx.Err() == nil {
				c.opts.Logf("%v", err)
			}
		}
	}
}

// Snapshot returns the snapshot in use.
func (c *Client) Snapshot() *featureflag.Snapshot { return c.snap.Load() }

// Evaluate evaluates flag key for ctx against the snapshot in use.
func (c *Client) Evaluate(key string, ctx featureflag.Context) (featureflag.Result, error) {
	return c.snap.Load().Evaluate(key, ctx)
}

// Bool returns a boolean flag's value, or def when the flag is unknown,
// disabled, not boolean, or fails to evaluate.
func (c *Client) Bool(key string, ctx featureflag.Context, def bool) bool {
	return value(c, key, ctx, def)
}

// String returns a string flag's value, or def (see Bool).
func (c *Client) String(key string, ctx featureflag.Context, def string) string {
	return value(c, key, ctx, def)
}

// Number returns a number flag's value, or def (see Bool).
func (c *Client) Number(key string, ctx featureflag.Context, def float64) float64 {
	return value(c, key, ctx, def)
}

// Object returns an object flag's value, or def (see Bool). Do not change it.
func (c *Client) Object(key string, ctx featureflag.Context, def map[string]any) map[string]any {
	return value(c, key, ctx, def)
}

// value returns the flag's value as a T, or def, as OpenFeature SDKs do:
// a disabled flag gives the caller's default.
func value[T any](c *Client, key string, ctx featureflag.Context, def T) T {
	res, err := c.Evaluate(key, ctx)
	if err != nil || res.Reason == featureflag.ReasonDisabled {
		return def
	}
	v, ok := res.Value.(T)
	if !ok {
		return def
	}
	return v
}
