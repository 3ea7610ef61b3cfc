package audit

import (
	"context"
	"strconv"
	"strings"

	"github.com/gantry-dev/gantry/rollout"
)

// Events wraps a rollout.Store so every event that records a decision is
// also audited: Warning events and phase transitions (see Decision).
// Every other method is the wrapped store's.
func Events(store rollout.Store, log *Log) rollout.Store {
	return &eventStore{Store: store, log: log}
}

type eventStore struct {
	rollout.Store
	log *Log
}

var _ rollout.Store = (*eventStore)(nil)

func (s *eventStore) AppendEvent(ctx context.Context, e rollout.Event) (rollout.Event, error) {
	stored, err := s.Store.AppendEvent(ctx, e)
	if err != nil || !Decision(stored) {
		return stored, err
	}
	actor := stored.Actor
	if actor == "" {
		actor = "gantry"
	}
	r := Record{
		Time: stored.Time, Actor: actor, Action: stored.Reason, App: stored.App, Env: stored.Env,
		Outcome: string(stored.Type), Message: stored.Message,
	}
	if stored.RolloutID != 0 {
		r.Target = "rollout " + strconv.FormatInt(stored.RolloutID, 10)
	}
	s.log.Record(ctx, r)
	return stored, nil
}

// Decision reports whether e records a decision worth auditing: a
// Warning (a rollback, an abort, a crash loop, a failed check…) or a
// phase transition, whose message the engine writes as
// "Progressing -> Succeeded: …".
func Decision(e rollout.Event) bool {
	if e.Type == rollout.Warning {
		return true
	}
	from, rest, ok := strings.Cut(e.Message, " -> ")
	if !ok {
		return false
	}
	to, _, _ := strings.Cut(rest, ":")
	_, err1 := rollout.ParsePhase(from)
	_, err2 := rollout.ParsePhase(strings.TrimSpace(to))
	return err1 == nil && err2 == nil
}
