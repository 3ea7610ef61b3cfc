package client

import (
	"context"

	"github.com/gantry-dev/gantry/api"
)

// Alerts lists the server's alerts and alert rules.
func (c *Client) Alerts(ctx context.Context) (api.Alerts, error) {
	var out api.Alerts
	err := c.do(ctx, "GET", "/api/v1/alerts", nil, &out)
	return out, err
}
