package audit

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

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

// recordTimeout bounds writing the audit record of a stored decision.
const recordTimeout = 10 * time.Second

// AppendEvent stores e and, when it is a decision, audits it. Once the
// event is stored its record is written even if ctx ends meanwhile (a
// server stopping while a rollout ends cancels it): otherwise the log would
// lack a stored decision until a later start's CatchUp.
func (s *eventStore) AppendEvent(ctx context.Context, e rollout.Event) (rollout.Event, error) {
	stored, err := s.Store.AppendEvent(ctx, e)
	if err != nil || !Decision(stored) {
		return stored, err
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	s.log.Record(rctx, decisionRecord(stored))
	return stored, nil
}

// decisionRecord is the audit record of a decision event. It carries the
// event's and rollout's IDs as fields, which CatchUp reads to tell which
// events the log already holds; Target names them for people ("rollout
// 12 event 345").
func decisionRecord(e rollout.Event) Record {
	actor := e.Actor
	if actor == "" {
		actor = "gantry"
	}
	r := Record{
		Time: e.Time, Actor: actor, Action: string(e.Reason), App: e.App, Env: e.Env,
		Outcome: string(e.Type), Message: e.Message,
		Target:    "event " + strconv.FormatInt(e.ID, 10),
		RolloutID: e.RolloutID, EventID: e.ID,
	}
	if e.RolloutID != 0 {
		r.Target = "rollout " + strconv.FormatInt(e.RolloutID, 10) + " " + r.Target
	}
	return r
}

// catchUpWindow is how many of the newest audited events CatchUp looks
// back over for gaps; it reads twice as many records to tell which events
// in that span the log already holds.
const catchUpWindow = 200

// CatchUp audits the decision events the log lacks: a server killed
// between storing an event and auditing it leaves such a gap. Events are
// stored by several goroutines at once (one per rollout), so the gap need
// not be at the end: event 104 may lack its record while 105, stored and
// audited by another rollout a moment later, has one. CatchUp therefore
// compares by event ID from the oldest of the newest catchUpWindow audited
// events on, whoever acted, and adds exactly the missing records. Call it
// once at start, before the engine runs. It returns how many records it
// added.
func CatchUp(ctx context.Context, events rollout.Store, log *Log) (int, error) {
	recent, err := log.Store().ListAudit(ctx, Filter{Limit: 2 * catchUpWindow, Newest: true})
	if err != nil {
		return 0, fmt.Errorf("read the audit log: %w", err)
	}
	audited := make(map[int64]bool, len(recent))
	var ids []int64 // in the log's order, oldest first
	for _, r := range recent {
		if r.EventID > 0 {
			audited[r.EventID] = true
			ids = append(ids, r.EventID)
		}
	}
	if len(ids) == 0 {
		// Nothing audited from events yet (or only by a gantry that did not
		// store event IDs): nothing to compare with.
		return 0, nil
	}
	low := slices.Min(ids[max(0, len(ids)-catchUpWindow):])
	evs, err := events.ListEvents(ctx, rollout.EventFilter{AfterID: low - 1})
	if err != nil {
		return 0, fmt.Errorf("list events from %d: %w", low, err)
	}
	n := 0
	for _, e := range evs {
		if !Decision(e) || audited[e.ID] {
			continue
		}
		if _, err := log.Append(ctx, decisionRecord(e)); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Decision reports whether e records a decision worth auditing: a
// Warning (a rollback, an abort, a crash loop, a failed check…) or a
// phase transition.
func Decision(e rollout.Event) bool {
	return e.Type == rollout.Warning || e.Transition()
}
