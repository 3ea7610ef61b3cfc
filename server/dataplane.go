package server

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/dataplane"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router"
	"github.com/gantry-dev/gantry/router/proxyrouter"
	"github.com/gantry-dev/gantry/router/remoterouter"
)

// newRouter returns the leader's router: the data plane in this process
// when Options.ProxyCommand is nil, otherwise a `gantry proxy` process
// adopted or started for the data directory and programmed remotely.
func (s *Server) newRouter(ctx context.Context) (router.Router, error) {
	if len(s.opts.ProxyCommand) == 0 {
		return proxyrouter.New(proxyrouter.Options{Logf: s.opts.Logf}), nil
	}
	d := &dataPlaneRouter{stop: s.opts.StopInstancesOnExit, event: s.recordEvent}
	sup, err := dataplane.Supervise(ctx, dataplane.SupervisorOptions{
		DataDir: s.opts.DataDir, Command: s.opts.ProxyCommand, Logf: s.opts.Logf, OnChange: d.changed,
		NoStandby: s.opts.NoProxyStandby,
	})
	if err != nil {
		return nil, fmt.Errorf("data plane: %w", err)
	}
	rr, err := remoterouter.New(ctx, remoterouter.Options{DataPlane: sup.Client(), Detach: true, Logf: s.opts.Logf})
	if err != nil {
		return nil, fmt.Errorf("data plane: %w", err)
	}
	d.Router, d.sup, d.boot = rr, sup, sup.Health().Boot.ID
	wctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	d.done.Add(1)
	go func() { defer d.done.Done(); sup.Run(wctx) }()
	return d, nil
}

// dataPlaneRouter is the router of a supervised `gantry proxy` process:
// it sends the state again to a restarted process, records the data
// plane's health as events on every environment, and leaves the process
// serving when the server stops (unless it stops its instances too).
type dataPlaneRouter struct {
	*remoterouter.Router
	sup    *dataplane.Supervisor
	stop   bool
	event  func(rollout.Event)
	cancel context.CancelFunc
	done   sync.WaitGroup

	mu   sync.Mutex
	boot string
}

// DataPlane reports the data plane's health.
func (d *dataPlaneRouter) DataPlane() dataplane.Health { return d.sup.Health() }

// changed acts on a change of the data plane's health.
func (d *dataPlaneRouter) changed(h dataplane.Health) {
	d.mu.Lock()
	newBoot := d.boot != "" && h.Boot.ID != d.boot
	if h.State == dataplane.Up {
		d.boot = h.Boot.ID
	}
	d.mu.Unlock()
	if d.Router == nil {
		return
	}
	if h.State == dataplane.Up && newBoot {
		if err := d.Resync(context.Background()); err != nil {
			h.Reason += "; sending the routing state again: " + err.Error()
		}
	}
	reason, typ := rollout.ReasonDataPlaneUp, rollout.Normal
	switch {
	case h.State == dataplane.Down:
		reason, typ = rollout.ReasonDataPlaneDown, rollout.Warning
	case h.State == dataplane.Stale:
		reason, typ = rollout.ReasonDataPlaneStale, rollout.Warning
	case newBoot && h.Reason != "":
		reason, typ = rollout.ReasonDataPlaneRestarted, rollout.Warning
	}
	msg := fmt.Sprintf("data plane pid %d (boot %s) is %s", h.Boot.PID, h.Boot.ID, h.State)
	if h.Reason != "" {
		msg += ": " + h.Reason
	}
	var details *rollout.Details
	if reason == rollout.ReasonDataPlaneRestarted && h.LastCrash != nil {
		details = &rollout.Details{DataPlane: crashFacts(h)}
	}
	for _, e := range d.Opened() {
		d.event(rollout.Event{App: e.App, Env: e.Name, Type: typ, Reason: reason, Message: msg, Details: details})
	}
}

// crashFacts are h's last crash as the API reports it; nil when none.
func crashFacts(h dataplane.Health) *rollout.DataPlaneCrash {
	c := h.LastCrash
	if c == nil {
		return nil
	}
	return &rollout.DataPlaneCrash{PID: c.PID, Boot: c.Boot, NewPID: c.NewPID, NewBoot: c.NewBoot,
		InFlight: c.InFlight, HeldListeners: c.Held, Queued: c.Queued, Standby: c.Standby,
		DowntimeMs: c.Downtime().Milliseconds(), RestartMs: c.ServingAt.Sub(c.DetectedAt).Milliseconds()}
}

// Close implements router.Router: the data plane keeps serving, unless
// the server stops its instances on exit (the demo, tests): then it stops.
func (d *dataPlaneRouter) Close(ctx context.Context) error {
	d.cancel()
	d.done.Wait()
	err := d.Router.Close(ctx)
	if d.stop {
		err = errors.Join(err, d.sup.Stop(ctx))
	}
	return err
}

// dataPlaneHealth is a router whose data plane runs in its own process.
type dataPlaneHealth interface{ DataPlane() dataplane.Health }

// dataPlaneStatus reports r's data plane's health for the API; nil when
// r runs it in process.
func dataPlaneStatus(r router.Router) func() *api.DataPlane {
	d, ok := r.(dataPlaneHealth)
	if !ok {
		return nil
	}
	return func() *api.DataPlane {
		h := d.DataPlane()
		return &api.DataPlane{State: h.State.String(), PID: h.Boot.PID, Boot: h.Boot.ID, Since: h.Since,
			Reason: h.Reason, Restarts: h.Restarts, Lost: h.Lost, LastCrash: crashFacts(h), StandbyPID: h.StandbyPID}
	}
}

// dataPlaneGate refuses new rollouts while the data plane is not Up: a
// rollout needs the router to move traffic and to count what each revision
// serves. Commands on running rollouts go through.
type dataPlaneGate struct {
	api.Engine
	dp dataPlaneHealth
}

// gateRollouts wraps e with the data plane's gate when r has one.
func gateRollouts(e api.Engine, r router.Router) api.Engine {
	if d, ok := r.(dataPlaneHealth); ok {
		return dataPlaneGate{Engine: e, dp: d}
	}
	return e
}

func (g dataPlaneGate) check(app, env string) error {
	h := g.dp.DataPlane()
	if h.State == dataplane.Up {
		return nil
	}
	return dataPlaneNotUp(fmt.Sprintf("new rollouts of %s/%s wait for the data plane: it is %s since %s (%s); gantry status shows when it is Up again",
		app, env, h.State, h.Since.Format("15:04:05"), h.Reason))
}

// dataPlaneNotUp refuses a command while the data plane is not Up: a
// conflict with the environment's state (HTTP 409), which says why in its
// own words rather than rollout.ErrConflict's.
type dataPlaneNotUp string

func (e dataPlaneNotUp) Error() string        { return string(e) }
func (e dataPlaneNotUp) Is(target error) bool { return target == rollout.ErrConflict }

func (g dataPlaneGate) Deploy(ctx context.Context, req rollout.DeployRequest) (rollout.Rollout, error) {
	if err := g.check(req.App, req.Env); err != nil {
		return rollout.Rollout{}, err
	}
	return g.Engine.Deploy(ctx, req)
}

func (g dataPlaneGate) Undo(ctx context.Context, app, env string, toRevision int, actor string) (rollout.Rollout, error) {
	if err := g.check(app, env); err != nil {
		return rollout.Rollout{}, err
	}
	return g.Engine.Undo(ctx, app, env, toRevision, actor)
}

func (g dataPlaneGate) Retry(ctx context.Context, req rollout.CommandRequest) (rollout.Rollout, error) {
	if err := g.check(req.App, req.Env); err != nil {
		return rollout.Rollout{}, err
	}
	return g.Engine.Retry(ctx, req)
}
