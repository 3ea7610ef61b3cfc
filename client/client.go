// Package client is the Go client of gantry's HTTP API (package api). The
// CLI uses it for every command that talks to a server.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/rollout"
)

// DefaultServer is where the CLI looks for gantry server when neither
// --server nor GANTRY_SERVER says otherwise.
const DefaultServer = "http://127.0.0.1:7070"

// Client calls one gantry server.
type Client struct {
	base  string
	http  *http.Client
	actor string
	token string
}

// Options configure a Client.
type Options struct {
	// Server is the base URL, such as http://127.0.0.1:7070; empty: DefaultServer.
	Server string
	// Actor names the user in events; empty: "cli". A server that
	// authenticates names the token instead.
	Actor string
	// Token is the API token sent as "Authorization: Bearer"; empty: none.
	Token string
	// Timeout bounds each call; 0: 30s.
	Timeout time.Duration
}

// New returns a client; it checks the URL but does not connect.
func New(opts Options) (*Client, error) {
	if opts.Server == "" {
		opts.Server = DefaultServer
	}
	u, err := url.Parse(opts.Server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server address %q is not an http:// or https:// URL such as %s", opts.Server, DefaultServer)
	}
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	return &Client{base: strings.TrimRight(opts.Server, "/"), http: &http.Client{Timeout: opts.Timeout}, actor: opts.Actor, token: opts.Token}, nil
}

// Error is an error answer from the server.
type Error struct {
	Status int
	Body   api.Error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Body.Message)
	for _, d := range e.Body.Details {
		b.WriteString("\n  ")
		b.WriteString(d.Error())
	}
	if len(e.Body.Gates) > 0 {
		b.WriteString("\n")
		b.WriteString(strings.TrimRight(e.Body.Gates.String(), "\n"))
	}
	return b.String()
}

// IsNotFound reports whether err is the server's 404.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.send(ctx, c.http, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if w, ok := out.(io.Writer); ok {
		_, err := io.Copy(w, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode answer to %s %s: %w", method, path, err)
	}
	return nil
}

// send makes one request with hc and returns the response of a 2xx
// answer, whose body the caller closes; any other answer is an *Error.
func (c *Client) send(ctx context.Context, hc *http.Client, method, path string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.actor != "" {
		req.Header.Set("X-Gantry-Actor", c.actor)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reach gantry server at %s (is `gantry server` running? set --server or GANTRY_SERVER): %w", c.base, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		var eb api.ErrorBody
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(raw, &eb) != nil || eb.Error.Message == "" {
			return nil, &Error{Status: resp.StatusCode, Body: api.Error{Code: "http_" + strconv.Itoa(resp.StatusCode), Message: strings.TrimSpace(string(raw))}}
		}
		return nil, &Error{Status: resp.StatusCode, Body: eb.Error}
	}
	return resp, nil
}

func envPath(app, env string) string {
	return "/api/v1/apps/" + url.PathEscape(app) + "/environments/" + url.PathEscape(env)
}

// Apply sends a gantry.yaml document.
func (c *Client) Apply(ctx context.Context, filename string, source []byte) (api.ApplyResponse, error) {
	var out api.ApplyResponse
	err := c.do(ctx, http.MethodPost, "/api/v1/apps", api.ApplyRequest{Filename: filename, Source: string(source)}, &out)
	return out, err
}

// Apps lists applied apps.
func (c *Client) Apps(ctx context.Context) ([]api.AppSummary, error) {
	var out []api.AppSummary
	err := c.do(ctx, http.MethodGet, "/api/v1/apps", nil, &out)
	return out, err
}

// Deploy starts a rollout of version.
func (c *Client) Deploy(ctx context.Context, app, env, version string) (rollout.Rollout, error) {
	var out rollout.Rollout
	err := c.do(ctx, http.MethodPost, envPath(app, env)+"/deploy", api.DeployRequest{Version: version}, &out)
	return out, err
}

// Undo rolls back to toRevision (0: the previous stable revision).
func (c *Client) Undo(ctx context.Context, app, env string, toRevision int) (rollout.Rollout, error) {
	var out rollout.Rollout
	err := c.do(ctx, http.MethodPost, envPath(app, env)+"/undo", api.UndoRequest{ToRevision: toRevision}, &out)
	return out, err
}

// RollbackDatabase restores app's database in env to backup to (an ID,
// or "latest") or undoes it to schema version to, and restarts the app at
// the matching revision.
func (c *Client) RollbackDatabase(ctx context.Context, app, env, to string) (api.DatabaseRollback, error) {
	var out api.DatabaseRollback
	err := c.do(ctx, http.MethodPost, envPath(app, env)+"/database/rollback", api.DatabaseRollbackRequest{To: to}, &out)
	return out, err
}

// Command sends a rollout command: "promote", "abort", "pause", "resume" or "retry".
func (c *Client) Command(ctx context.Context, app, env, command string, body api.CommandBody) (rollout.Rollout, error) {
	var out rollout.Rollout
	err := c.do(ctx, http.MethodPost, envPath(app, env)+"/"+command, body, &out)
	return out, err
}

// Status returns an environment's rollout, instances and traffic.
func (c *Client) Status(ctx context.Context, app, env string) (api.Status, error) {
	var out api.Status
	err := c.do(ctx, http.MethodGet, envPath(app, env)+"/status", nil, &out)
	return out, err
}

// History lists an environment's rollouts, newest first.
func (c *Client) History(ctx context.Context, app, env string, limit int) ([]api.HistoryEntry, error) {
	var out []api.HistoryEntry
	err := c.do(ctx, http.MethodGet, envPath(app, env)+"/rollouts?limit="+strconv.Itoa(limit), nil, &out)
	return out, err
}

// Rollout returns one rollout.
func (c *Client) Rollout(ctx context.Context, id int64) (rollout.Rollout, error) {
	var out rollout.Rollout
	err := c.do(ctx, http.MethodGet, "/api/v1/rollouts/"+strconv.FormatInt(id, 10), nil, &out)
	return out, err
}

// Events lists an environment's events with ID > after, oldest first;
// rolloutID 0 means every rollout.
func (c *Client) Events(ctx context.Context, app, env string, after, rolloutID int64) ([]rollout.Event, error) {
	var out []rollout.Event
	q := url.Values{"after": {strconv.FormatInt(after, 10)}}
	if rolloutID != 0 {
		q.Set("rollout", strconv.FormatInt(rolloutID, 10))
	}
	err := c.do(ctx, http.MethodGet, envPath(app, env)+"/events?"+q.Encode(), nil, &out)
	return out, err
}

// Logs copies the last tailBytes of an instance's log to w.
func (c *Client) Logs(ctx context.Context, app, env, instance string, tailBytes int64, w io.Writer) error {
	return c.LogsSince(ctx, app, env, instance, tailBytes, time.Time{}, w)
}

// LogsSince copies what an instance wrote at or after since (zero: all of
// it), at most its last tailBytes (0: no limit), to w.
func (c *Client) LogsSince(ctx context.Context, app, env, instance string, tailBytes int64, since time.Time, w io.Writer) error {
	q := url.Values{"tailBytes": {strconv.FormatInt(tailBytes, 10)}}
	if !since.IsZero() {
		q.Set("since", since.UTC().Format(time.RFC3339Nano))
	}
	return c.do(ctx, http.MethodGet, envPath(app, env)+"/instances/"+url.PathEscape(instance)+"/logs?"+q.Encode(), nil, w)
}

// FollowLogs streams an instance's log from tailBytes before its end (0:
// from its beginning) and goes on with new output until ctx ends or the
// stream is closed. Unlike the other calls it has no timeout.
func (c *Client) FollowLogs(ctx context.Context, app, env, instance string, tailBytes int64) (io.ReadCloser, error) {
	q := url.Values{"tailBytes": {strconv.FormatInt(tailBytes, 10)}, "follow": {"true"}}
	resp, err := c.send(ctx, &http.Client{Transport: c.http.Transport}, http.MethodGet,
		envPath(app, env)+"/instances/"+url.PathEscape(instance)+"/logs?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// WaitRollout polls rollout id until its phase is final or ctx ends,
// calling progress (if not nil) after each poll.
func (c *Client) WaitRollout(ctx context.Context, id int64, every time.Duration, progress func(rollout.Rollout)) (rollout.Rollout, error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		r, err := c.Rollout(ctx, id)
		if err != nil {
			return r, err
		}
		if progress != nil {
			progress(r)
		}
		if r.Phase.Final() {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-t.C:
		}
	}
}

// Revisions lists an environment's stored revisions, oldest first.
func (c *Client) Revisions(ctx context.Context, app, env string) ([]rollout.Revision, error) {
	var out []rollout.Revision
	err := c.do(ctx, http.MethodGet, envPath(app, env)+"/revisions", nil, &out)
	return out, err
}

// App returns an applied app; IsNotFound(err) when there is none.
func (c *Client) App(ctx context.Context, name string) (api.AppSummary, error) {
	var out api.AppSummary
	err := c.do(ctx, http.MethodGet, "/api/v1/apps/"+url.PathEscape(name), nil, &out)
	return out, err
}

// Version returns the server's version ("version") and API version ("api").
func (c *Client) Version(ctx context.Context) (map[string]string, error) {
	var out map[string]string
	err := c.do(ctx, http.MethodGet, "/api/v1/version", nil, &out)
	return out, err
}
