package server

import (
	"context"
	"log/slog"

	"github.com/gantry-dev/gantry/rollout"
)

// logEvents wraps a rollout.Store so the server log tells the story of
// the rollouts and instances in a line per fact, not per attempt: a rollout
// started, a rollout ended (with its outcome), an instance adopted. A line
// is written once its event is stored, and every event is stored once
// (a lost transition comes back once as TransitionRecovered), so each fact
// is logged once. Every other method is the wrapped store's.
func logEvents(store rollout.Store, log *slog.Logger) rollout.Store {
	return &loggedEvents{Store: store, log: log}
}

type loggedEvents struct {
	rollout.Store
	log *slog.Logger
}

var _ rollout.Store = (*loggedEvents)(nil)

func (s *loggedEvents) AppendEvent(ctx context.Context, e rollout.Event) (rollout.Event, error) {
	stored, err := s.Store.AppendEvent(ctx, e)
	if err != nil {
		return stored, err
	}
	if msg, ok := eventLogMessage(stored); ok {
		attrs := []slog.Attr{slog.String("app", stored.App), slog.String("env", stored.Env)}
		if stored.RolloutID != 0 {
			attrs = append(attrs, slog.Int64("rollout", stored.RolloutID))
		}
		if stored.To.Final() {
			attrs = append(attrs, slog.String("outcome", stored.To.String()))
		}
		attrs = append(attrs, slog.String("reason", string(stored.Reason)), slog.String("message", stored.Message))
		s.log.LogAttrs(ctx, slog.LevelInfo, msg, attrs...)
	}
	return stored, nil
}

// eventLogMessage is the server log's message for an event it logs; ok is
// false for an event the log leaves to `gantry events`.
func eventLogMessage(e rollout.Event) (msg string, ok bool) {
	switch {
	case e.Reason == rollout.ReasonRolloutStarted:
		return "rollout started", true
	case e.To.Final():
		return "rollout ended", true
	case e.Reason == rollout.ReasonInstanceAdopted:
		return "instance adopted", true
	}
	return "", false
}
