package proxyrouter_test

import (
	"context"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/router/proxyrouter"
	"github.com/gantry-dev/gantry/router/routertest"
)

func TestRouter_Conformance(t *testing.T) {
	routertest.Run(t, func(t *testing.T) routertest.Harness {
		r := proxyrouter.New(proxyrouter.Options{Logf: t.Logf})
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = r.Close(ctx)
		})
		return routertest.Harness{Router: r}
	})
}
