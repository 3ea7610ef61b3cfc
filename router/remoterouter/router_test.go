package remoterouter_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/dataplane"
	"github.com/gantry-dev/gantry/router/remoterouter"
	"github.com/gantry-dev/gantry/router/routertest"
)

// serve runs a Plane on a control socket in a temporary directory until
// the test ends and returns a Client of it.
func serve(t *testing.T) (*dataplane.Plane, *dataplane.Client) {
	t.Helper()
	plane := dataplane.New(dataplane.Options{Logf: t.Logf})
	sock := filepath.Join(t.TempDir(), "proxy.sock")
	ln, err := dataplane.ListenControl(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- dataplane.Serve(ctx, ln, dataplane.Handler(plane, nil), t.Logf) }()
	t.Cleanup(func() {
		cancel()
		<-done
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		_ = plane.Close(cctx)
	})
	return plane, dataplane.NewClient(sock)
}

func newRouter(t *testing.T, dp remoterouter.DataPlane) *remoterouter.Router {
	t.Helper()
	r, err := remoterouter.New(context.Background(), remoterouter.Options{DataPlane: dp, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = r.Close(ctx)
	})
	return r
}

func TestRouter_Conformance(t *testing.T) {
	t.Run("OverTheControlSocket", func(t *testing.T) {
		routertest.Run(t, func(t *testing.T) routertest.Harness {
			_, client := serve(t)
			return routertest.Harness{Router: newRouter(t, client)}
		})
	})
	t.Run("InProcess", func(t *testing.T) {
		routertest.Run(t, func(t *testing.T) routertest.Harness {
			plane := dataplane.New(dataplane.Options{Logf: t.Logf})
			t.Cleanup(func() { _ = plane.Close(context.Background()) })
			return routertest.Harness{Router: newRouter(t, plane)}
		})
	})
}
