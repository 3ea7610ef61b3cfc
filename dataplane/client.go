package dataplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Client programs a data plane over its control socket. It is safe for
// concurrent use.
type Client struct {
	socket string
	hc     *http.Client

	mu      sync.Mutex
	indexes map[string]*countersIndex // per counters query: the series index last read
}

// NewClient returns a Client of the data plane serving the control socket
// at path. It does not connect until used.
func NewClient(path string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     30 * time.Second,
	}
	return &Client{socket: path, hc: &http.Client{Transport: tr}}
}

// Socket is the control socket's path.
func (c *Client) Socket() string { return c.socket }

// callTimeout bounds every call but Drain.
const callTimeout = 10 * time.Second

// State reads everything the data plane holds.
func (c *Client) State(ctx context.Context) (State, error) {
	var s State
	err := c.call(ctx, http.MethodGet, "/v1/state", nil, &s)
	return s, err
}

// Apply sends an environment's desired state.
func (c *Client) Apply(ctx context.Context, e Environment) (EnvStatus, error) {
	var st EnvStatus
	err := c.call(ctx, http.MethodPut, "/v1/environments/"+url.PathEscape(e.App)+"/"+url.PathEscape(e.Name), e, &st)
	return st, err
}

// Remove stops serving an environment.
func (c *Client) Remove(ctx context.Context, app, name string) error {
	return c.call(ctx, http.MethodDelete, "/v1/environments/"+url.PathEscape(app)+"/"+url.PathEscape(name), nil, nil)
}

// Check reads the data plane's boot and requests in flight.
func (c *Client) Check(ctx context.Context) (Liveness, error) {
	var h Liveness
	err := c.call(ctx, http.MethodGet, "/v1/health", nil, &h)
	return h, err
}

// Counters reads the counters of app/name, or of every environment when
// app is empty. It asks for the compact version 2 (CountersMediaType),
// sending the series index it holds for the same query, and reads JSON
// from a data plane that answers with it (one older than version 2).
func (c *Client) Counters(ctx context.Context, app, name string) (Counters, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	path := "/v1/counters"
	if app != "" {
		path += "?" + url.Values{"app": {app}, "env": {name}}.Encode()
	}
	c.mu.Lock()
	held := c.indexes[path]
	c.mu.Unlock()
	out, idx, err := c.counters(ctx, path, held)
	if errors.Is(err, errIndexNotHeld) {
		out, idx, err = c.counters(ctx, path, nil)
	}
	if err != nil {
		return Counters{}, err
	}
	c.mu.Lock()
	if idx != nil && idx != held {
		if c.indexes == nil || len(c.indexes) >= maxIndexes {
			c.indexes = map[string]*countersIndex{}
		}
		c.indexes[path] = idx
	}
	c.mu.Unlock()
	return out, nil
}

// counters reads path once, naming held (when not nil) as the index held.
func (c *Client) counters(ctx context.Context, path string, held *countersIndex) (Counters, *countersIndex, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://gantry-proxy"+path, nil)
	if err != nil {
		return Counters{}, nil, err
	}
	req.Header.Set("Accept", CountersMediaType+", application/json;q=0.5")
	if held != nil {
		req.Header.Set(CountersIndexHeader, held.hexID())
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return Counters{}, nil, fmt.Errorf("data plane at %s: %w", c.socket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != CountersMediaType {
		var out Counters
		return out, nil, c.decodeReply(resp, http.MethodGet, path, &out)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return Counters{}, nil, fmt.Errorf("data plane at %s: GET %s: %w", c.socket, path, err)
	}
	out, idx, err := decodeCounters(body, held)
	if err != nil && !errors.Is(err, errIndexNotHeld) {
		err = fmt.Errorf("data plane at %s: GET %s: %w", c.socket, path, err)
	}
	return out, idx, err
}

// Drain returns when no request is in flight to addr, or with ctx's error.
// An idle addr returns nil even when ctx has ended.
func (c *Client) Drain(ctx context.Context, addr string) error {
	err := c.call(context.WithoutCancel(ctx), http.MethodPost, "/v1/drain", map[string]any{"addr": addr, "noWait": true}, nil)
	if err == nil || ctx.Err() != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, "/v1/drain", map[string]any{"addr": addr}, nil)
}

// call sends one request within callTimeout (or ctx's earlier deadline).
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return c.do(ctx, method, path, in, out)
}

// do sends one request; a non-2xx answer is an error carrying the data
// plane's message (ErrStale for 409, ErrNotFound for 404).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://gantry-proxy"+path, body)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("data plane at %s: %w", c.socket, err)
	}
	defer resp.Body.Close()
	return c.decodeReply(resp, method, path, out)
}

// decodeReply reads a JSON answer into out (nil: none); a non-2xx answer
// is an error carrying the data plane's message (ErrStale for 409,
// ErrNotFound for 404).
func (c *Client) decodeReply(resp *http.Response, method, path string, out any) error {
	if resp.StatusCode/100 != 2 {
		var e struct{ Error string }
		_ = json.NewDecoder(io.LimitReader(resp.Body, 4<<10)).Decode(&e)
		switch resp.StatusCode {
		case http.StatusConflict:
			return fmt.Errorf("data plane: %s: %w", e.Error, ErrStale)
		case http.StatusServiceUnavailable:
			return fmt.Errorf("data plane: %s: %w", e.Error, ErrBusy)
		case http.StatusNotFound:
			return fmt.Errorf("data plane: %s %s: %w", method, path, ErrNotFound)
		}
		return fmt.Errorf("data plane: %s", e.Error)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxReply)).Decode(out); err != nil {
		return fmt.Errorf("data plane at %s: %s %s: decode: %w", c.socket, method, path, err)
	}
	return nil
}

// CloseIdle closes the client's idle connections.
func (c *Client) CloseIdle() { c.hc.CloseIdleConnections() }

// maxReply bounds what the client reads of one answer of the data plane
// (tables and counters of every environment): 64 MiB, eight times the
// largest desired state it accepts.
const maxReply = 64 << 20
