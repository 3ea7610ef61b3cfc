package client

import (
	"context"
	"net/http"

	"github.com/gantry-dev/gantry/dashboard"
)

// DashboardLink asks the server for a one-time link that signs a browser
// in to the dashboard as this client's token; the link's URL is
// ServerURL() + Path.
func (c *Client) DashboardLink(ctx context.Context) (dashboard.Link, error) {
	var out dashboard.Link
	err := c.do(ctx, http.MethodPost, "/dashboard/links", struct{}{}, &out)
	return out, err
}

// ServerURL returns the server's base URL, such as http://127.0.0.1:7070.
func (c *Client) ServerURL() string { return c.base }
