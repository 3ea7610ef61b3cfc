package kuberouter

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/rollout"
)

// DefaultResync is how often a router reads back the objects it wrote
// when Options.Resync is zero.
const DefaultResync = 10 * time.Second

// drift collects what a resync found changed by someone else and set
// back; nil while the router itself changes the traffic (then a
// difference is the change asked, not drift).
type drift struct{ fixed []rollout.DriftFact }

// add records one correction; on a nil drift it does nothing.
func (d *drift) add(f rollout.DriftFact) {
	if d != nil {
		d.fixed = append(d.fixed, f)
	}
}

// resyncLoop reads back every environment's objects every interval until
// stop is closed.
func (r *Router) resyncLoop(interval time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			r.Resync()
		}
	}
}

// Resync reads back the objects of every environment whose traffic this
// router has set, and sets back what someone else changed (an HTTPRoute's
// weights, an Ingress's canary annotations or backend, a Service's
// selector, an object deleted), each correction a Warning
// rollout.ReasonDriftCorrected event naming the object and the field.
// Environments the router has not set the traffic of yet (new in this
// process) are left as they are. Objects gantry did not create are never
// touched. The router calls it every Options.Resync.
func (r *Router) Resync() {
	r.mu.Lock()
	keys := make([]envKey, 0, len(r.envs))
	for k, st := range r.envs {
		if !st.keep {
			keys = append(keys, k)
		}
	}
	r.mu.Unlock()
	for _, k := range keys {
		r.resyncEnv(k)
	}
}

func (r *Router) resyncEnv(k envKey) {
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	r.mu.Lock()
	st, ok := r.envs[k]
	if !ok || st.keep {
		r.mu.Unlock()
		return
	}
	next := *st
	r.mu.Unlock()
	next.drift = &drift{}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := r.kind.apply(ctx, r, &next)
	fixed := next.drift.fixed
	if len(fixed) == 0 {
		// Nothing to set back, or a failed read: tried again next time.
		return
	}
	parts := make([]string, len(fixed))
	for i, f := range fixed {
		parts[i] = f.String()
	}
	msg := strings.Join(parts, "; ")
	details := &rollout.Details{Drift: fixed}
	if err != nil {
		msg += fmt.Sprintf("; could not set it all back: %v", err)
		details.Error = err.Error()
	}
	if r.opts.Event != nil {
		r.opts.Event(rollout.Event{Time: time.Now(), App: k.app, Env: k.env, Type: rollout.Warning,
			Reason: rollout.ReasonDriftCorrected, Message: "changed by someone else: " + msg, Actor: "gantry",
			Details: details})
	}
}
