package remoterouter

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/gantry-dev/gantry/dataplane"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router"
)

// busyRetries and busyWait bound the wait for a data plane handing its
// listeners to a new process.
const (
	busyRetries = 100
	busyWait    = 50 * time.Millisecond
)

// pushLocked sends e's desired state when it differs from the applied
// one. A data plane that holds a newer version (programmed by another
// server meanwhile) is read again and overwritten once. Callers hold r.mu.
func (r *Router) pushLocked(ctx context.Context, k envKey, e *envRoute) error {
	want := r.desired(k, e)
	if e.applied.Version != 0 {
		want.Version = e.applied.Version
		if reflect.DeepEqual(want, e.applied) {
			return nil
		}
	}
	want.Version = e.applied.Version + 1
	st, err := r.dp.Apply(ctx, want)
	for i := 0; errors.Is(err, dataplane.ErrBusy) && i < busyRetries; i++ {
		time.Sleep(busyWait) // a handover to a new process takes milliseconds
		st, err = r.dp.Apply(ctx, want)
	}
	if errors.Is(err, dataplane.ErrStale) {
		if cur, serr := r.dp.State(ctx); serr == nil {
			for _, es := range cur.Environments {
				if es.App == k.app && es.Name == k.env {
					want.Version = es.Version + 1
				}
			}
			st, err = r.dp.Apply(ctx, want)
		}
	}
	if err != nil {
		return fmt.Errorf("program the data plane for %s/%s: %w", k.app, k.env, err)
	}
	e.applied, e.status = want, st
	e.shares = router.Shares(want.Routes)
	return nil
}

// desired builds e's whole desired state. Before the backend has reported
// the environment's instances, the routes read back from the data plane
// are kept.
func (r *Router) desired(k envKey, e *envRoute) dataplane.Environment {
	d := dataplane.Environment{
		App: k.app, Name: k.env,
		Listen: e.env.Listen, StickyCookie: e.env.StickyCookie, Listener: e.env.Listener,
		RouteTemplates: e.env.RouteTemplates, UsersWindow: e.env.UsersWindow, UserCookie: e.env.UserCookie,
		UserSeed: e.env.UserSeed, Maintenance: e.maintenance, Traffic: e.traffic,
	}
	if !e.reported {
		d.Routes = e.applied.Routes
		if e.env.Preview {
			d.Preview = &dataplane.Preview{Listen: e.env.PreviewListen, Routes: previewRoutes(e.applied)}
		}
		return d
	}
	instances := e.lenient()
	d.Routes = router.Split(instances, e.traffic)
	if e.env.Preview {
		d.Preview = &dataplane.Preview{Listen: e.env.PreviewListen, Routes: router.PreviewSplit(instances, e.traffic)}
	}
	return d
}

// lenient returns e's instances with those whose endpoints were read back
// from the data plane taken as ready while they are starting or running
// and not probed ready yet: an adopted instance keeps serving across the
// server's restart. An endpoint leaves the grace once its instance is
// ready, stopping, or no longer reported.
func (e *envRoute) lenient() []rollout.Instance {
	if len(e.adopted) == 0 {
		return e.instances
	}
	out := make([]rollout.Instance, len(e.instances))
	seen := map[string]bool{}
	for i, in := range e.instances {
		out[i] = in
		if !e.adopted[in.Addr] {
			continue
		}
		seen[in.Addr] = true
		switch {
		case in.Ready || (in.State != rollout.Starting && in.State != rollout.Running):
			delete(e.adopted, in.Addr)
		default:
			out[i].Ready, out[i].State = true, rollout.Running
		}
	}
	for addr := range e.adopted {
		if !seen[addr] {
			delete(e.adopted, addr)
		}
	}
	return out
}
