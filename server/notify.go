package server

import (
	"context"
	"fmt"
	"time"

	"github.com/gantry-dev/gantry/alerting"
	"github.com/gantry-dev/gantry/notify"
	"github.com/gantry-dev/gantry/rollout"
)

// loadNotifications reads the notifications file of opts; nil without one.
func loadNotifications(opts Options) (*notify.Config, error) {
	if opts.Notifications == "" {
		return nil, nil
	}
	c, err := notify.LoadConfig(opts.Notifications)
	if err != nil {
		return nil, fmt.Errorf("--notifications: %w", err)
	}
	return c, nil
}

// knownReceiver says which receivers rules may name: those of the
// notifications file (none without one).
func knownReceiver(c *notify.Config) func(string) bool {
	return func(name string) bool { return c != nil && c.Has(name) }
}

// notifyingStore passes the rollout events that are notified (started,
// paused, promoted, succeeded, rolling back, rolled back, aborted,
// failed) to the notifier once stored. The notifier never blocks.
type notifyingStore struct {
	rollout.Store
	n *notify.Notifier
}

// AppendEvent implements rollout.Store.
func (s notifyingStore) AppendEvent(ctx context.Context, e rollout.Event) (rollout.Event, error) {
	stored, err := s.Store.AppendEvent(ctx, e)
	if err == nil {
		if kind, ok := notify.KindOf(stored); ok {
			s.n.Event(time.Now(), notify.Event{Kind: kind, Event: stored})
		}
	}
	return stored, err
}

// notifyAlerts sends an evaluation's alerts that started firing or
// resolved, and resends the firing ones to Alertmanager receivers.
func (s *Server) notifyAlerts(now time.Time, all []alerting.Alert, tr []alerting.Transition) {
	if s.notifier == nil {
		return
	}
	var firing, changed []notify.Alert
	for _, a := range all {
		if a.State == alerting.Firing {
			firing = append(firing, notifyAlert(a))
		}
	}
	for _, t := range tr {
		if t.To == alerting.Firing || t.To == alerting.Resolved {
			changed = append(changed, notifyAlert(t.Alert))
		}
	}
	s.notifier.Alerts(now, firing, changed)
}

func notifyAlert(a alerting.Alert) notify.Alert {
	return notify.Alert{Name: a.Name, State: string(a.State), Rule: a.Rule, Labels: a.Labels, Annotations: a.Annotations,
		Value: a.Value, StartsAt: a.FiredAt, EndsAt: a.ResolvedAt, Receivers: alerting.Rule{Labels: a.Labels}.Receivers()}
}
