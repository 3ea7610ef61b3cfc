package storetest

import (
	"testing"

	"github.com/gantry-dev/gantry/rollout"
)

// CheckSchema2Converted checks a store opened on a database gantry wrote
// at schema version 2, holding the rows of store/sqlite/testdata/schema2.db
// (store/postgres/testdata/schema2.sql inserts the same): the upgrade must
// have moved the facts earlier versions wrote into messages and actors
// into the typed fields.
func CheckSchema2Converted(t *testing.T, s rollout.Store) {
	t.Helper()
	evs, err := s.ListEvents(t.Context(), rollout.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 11 {
		t.Fatalf("%d events, want the 11 stored", len(evs))
	}
	type want struct {
		reason   rollout.Reason
		from, to rollout.Phase
		backup   string
		actor    string
	}
	wants := []want{
		{reason: "RolloutCreated", actor: "alice"},
		{reason: "RolloutStarted", from: rollout.Pending, to: rollout.Progressing, actor: "gantry"},
		{reason: "ErrorTest", from: rollout.Progressing, to: rollout.RollingBack, actor: "gantry"},
		{reason: "ErrorTest", from: rollout.RollingBack, to: rollout.RolledBack, actor: "gantry"},
		{reason: "RolloutCreated", actor: "bob"},
		{reason: "MigrationStarted", from: rollout.Pending, to: rollout.Migrating, actor: "gantry"},
		{reason: "DatabaseBackedUp", backup: "20261101T100042Z-0001", actor: "gantry"},
		{reason: "DatabaseBackedUp", backup: "20261101T100050Z-0002", actor: "gantry"},
		{reason: "InstanceExited", actor: "gantry"},
		{reason: rollout.ReasonDatabaseRollback, actor: "carol"},
		{reason: "TransitionRecovered", to: rollout.Migrating, actor: "gantry"},
	}
	for i, w := range wants {
		e := evs[i]
		backup := ""
		if e.Details != nil && e.Details.Backup != nil {
			backup = e.Details.Backup.ID
		}
		got := want{reason: e.Reason, from: e.From, to: e.To, backup: backup, actor: e.Actor}
		if got != w {
			t.Errorf("event %d (%s): got %+v, want %+v", e.ID, e.Message, got, w)
		}
	}
	if d := evs[7].Details; d == nil || d.Backup == nil || !d.Backup.Scheduled {
		t.Errorf("scheduled backup event: details %+v, want a scheduled backup", d)
	}
	rs, err := s.ListRollouts(t.Context(), rollout.RolloutFilter{})
	if err != nil {
		t.Fatal(err)
	}
	causes := map[int64]rollout.Reason{1: rollout.ReasonRolloutCreated, 2: rollout.ReasonRolloutCreated, 3: rollout.ReasonDatabaseRollback}
	actors := map[int64]string{1: "alice", 2: "bob", 3: "carol"}
	for _, r := range rs {
		if r.Cause != causes[r.ID] || r.Actor != actors[r.ID] {
			t.Errorf("rollout %d: cause %q by %q, want %q by %q", r.ID, r.Cause, r.Actor, causes[r.ID], actors[r.ID])
		}
	}
}
