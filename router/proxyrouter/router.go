package proxyrouter

import (
	"context"
	"errors"

	"github.com/gantry-dev/gantry/dataplane"
	"github.com/gantry-dev/gantry/router"
	"github.com/gantry-dev/gantry/router/remoterouter"
)

// Options configure a Router.
type Options struct {
	// Logf receives the proxies' diagnostics; nil: silent.
	Logf func(format string, args ...any)
}

// Router routes every opened environment through its own gantry proxy in
// this process. It is safe for concurrent use.
type Router struct {
	*remoterouter.Router
	plane *dataplane.Plane
}

var _ router.Router = (*Router)(nil)

// New returns a Router with no environment open.
func New(opts Options) *Router {
	plane := dataplane.New(dataplane.Options{Logf: opts.Logf})
	// An in-process Plane answers at once and holds nothing yet: New
	// cannot fail.
	rr, err := remoterouter.New(context.Background(), remoterouter.Options{DataPlane: plane, Logf: opts.Logf})
	if err != nil {
		panic(err)
	}
	return &Router{Router: rr, plane: plane}
}

// Close implements router.Router: every listener stops, letting requests
// in flight finish until ctx ends.
func (r *Router) Close(ctx context.Context) error {
	err := r.plane.Close(ctx)
	return errors.Join(err, r.Router.Close(ctx))
}
