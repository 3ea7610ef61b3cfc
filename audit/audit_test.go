package audit_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/audit"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/store/sqlite"
)

func TestRecord_ComputeHash_coversEveryField(t *testing.T) {
	base := audit.Record{
		Seq: 1, Time: time.Unix(100, 0), Actor: "ci", TokenID: "tok_1", Action: "deploy", App: "a", Env: "e",
		Target: "t", Method: "POST", Path: "/p", RemoteAddr: "127.0.0.1:1", Status: 201, Outcome: "ok",
		Message: "m", PrevHash: "p",
	}
	h := base.ComputeHash()
	v := reflect.ValueOf(&base).Elem()
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		if name == "Hash" {
			continue
		}
		changed := base
		f := reflect.ValueOf(&changed).Elem().Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(f.String() + "x")
		case reflect.Int, reflect.Int64:
			f.SetInt(f.Int() + 1)
		default:
			changed.Time = changed.Time.Add(time.Microsecond)
		}
		if changed.ComputeHash() == h {
			t.Errorf("changing %s leaves the hash unchanged", name)
		}
	}
}

func TestDecision(t *testing.T) {
	tests := []struct {
		e    rollout.Event
		want bool
	}{
		{rollout.Event{Type: rollout.Warning, Reason: "CrashLoop", Message: "instance restarted 3 times"}, true},
		{rollout.Event{Type: rollout.Normal, Reason: "RolloutSucceeded", From: rollout.Progressing, To: rollout.Succeeded, Message: "all 3 ready"}, true},
		{rollout.Event{Type: rollout.Normal, Reason: "Promoted", From: rollout.Paused, To: rollout.Progressing, Message: "promoted by alice"}, true},
		{rollout.Event{Type: rollout.Normal, Reason: "TransitionRecovered", To: rollout.Migrating}, true},
		{rollout.Event{Type: rollout.Normal, Reason: "Scaled", Message: "revision 2 (v2) scaled to 3 instance(s)"}, false},
		{rollout.Event{Type: rollout.Normal, Reason: "StepCompleted", Message: "Progressing -> Paused: a message is never read"}, false},
	}
	for _, tc := range tests {
		if got := audit.Decision(tc.e); got != tc.want {
			t.Errorf("Decision(%s %q) = %v, want %v", tc.e.Reason, tc.e.Message, got, tc.want)
		}
	}
}

func TestOutcomeOf(t *testing.T) {
	for status, want := range map[int]string{200: "ok", 201: "ok", 400: "rejected", 401: "denied", 403: "denied", 404: "rejected", 413: "rejected", 500: "error"} {
		if got := audit.OutcomeOf(status); got != want {
			t.Errorf("OutcomeOf(%d) = %q, want %q", status, got, want)
		}
	}
}

func TestEvents_auditsDecisionsOnly(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "gantry.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	store := audit.Events(s, audit.New(audit.Options{Store: s}))
	now := time.Now()
	for _, e := range []rollout.Event{
		{Time: now, App: "a", Env: "production", RolloutID: 7, Type: rollout.Normal, Reason: "Scaled", Message: "revision 2 scaled to 1", Actor: "gantry"},
		{Time: now, App: "a", Env: "production", RolloutID: 7, Type: rollout.Warning, Reason: "ProgressDeadlineExceeded", Message: "Progressing -> RollingBack: no progress for 600s", Actor: "gantry"},
	} {
		if _, err := store.AppendEvent(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	events, err := s.ListEvents(t.Context(), rollout.EventFilter{})
	if err != nil || len(events) != 2 {
		t.Fatalf("events = %d, %v; want both stored", len(events), err)
	}
	rs, err := s.ListAudit(t.Context(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 {
		t.Fatalf("audit records = %d, want 1 (the rollback decision only)", len(rs))
	}
	got := rs[0]
	if got.Action != "ProgressDeadlineExceeded" || got.Actor != "gantry" || got.Env != "production" || got.Target != "rollout 7 event 2" || got.Outcome != "Warning" {
		t.Errorf("audit record = %+v, want the decision by gantry on rollout 7", got)
	}
}

func TestProblemKind_textRoundTrip(t *testing.T) {
	for _, k := range []audit.ProblemKind{audit.ContentChanged, audit.RecordMissing, audit.ChainBroken} {
		b, err := k.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var got audit.ProblemKind
		if err := got.UnmarshalText(b); err != nil || got != k {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", b, got, err, k)
		}
	}
}

// TestCatchUp stores a decision event without its audit record, as a
// server killed between the two writes leaves it, and checks CatchUp adds
// exactly the missing record and the chain still verifies.
func TestCatchUp(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "gantry.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	log := audit.New(audit.Options{Store: s})
	store := audit.Events(s, log)
	now := time.Now()
	decision := func(reason rollout.Reason) rollout.Event {
		return rollout.Event{Time: now, App: "a", Env: "prod", RolloutID: 3, Type: rollout.Warning, Reason: reason, From: rollout.Progressing, To: rollout.RollingBack, Message: "Progressing -> RollingBack: " + string(reason)}
	}
	if _, err := store.AppendEvent(t.Context(), decision("ErrorRate")); err != nil {
		t.Fatal(err)
	}
	// The crash: the event is stored, its audit record is not.
	if _, err := s.AppendEvent(t.Context(), decision("CrashLoop")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendEvent(t.Context(), rollout.Event{Time: now, App: "a", Env: "prod", Type: rollout.Normal, Reason: "Scaled", Message: "routine"}); err != nil {
		t.Fatal(err)
	}
	n, err := audit.CatchUp(t.Context(), s, log)
	if err != nil || n != 1 {
		t.Fatalf("CatchUp = %d, %v; want 1 record added", n, err)
	}
	if n, err := audit.CatchUp(t.Context(), s, log); err != nil || n != 0 {
		t.Fatalf("second CatchUp = %d, %v; want nothing more", n, err)
	}
	rs, err := s.ListAudit(t.Context(), audit.Filter{})
	if err != nil || len(rs) != 2 || rs[1].Action != "CrashLoop" || rs[1].Target != "rollout 3 event 2" {
		t.Fatalf("audit = %+v, %v; want the ErrorRate and the caught-up CrashLoop records", rs, err)
	}
	rep, err := audit.Verify(t.Context(), s)
	if err != nil || !rep.OK() {
		t.Fatalf("verify after catch-up: %+v, %v", rep, err)
	}

	// Two rollouts at once: rollout 4's event is stored, then rollout 5's
	// is stored and audited, and the server dies before rollout 4's
	// record. A person's abort (audited under their name) is not audited
	// twice.
	lost := decision("UnhealthyInstances")
	lost.RolloutID = 4
	if _, err := s.AppendEvent(t.Context(), lost); err != nil {
		t.Fatal(err)
	}
	later := decision("ErrorRate")
	later.RolloutID = 5
	if _, err := store.AppendEvent(t.Context(), later); err != nil {
		t.Fatal(err)
	}
	abort := decision("Aborted")
	abort.Actor = "alice"
	if _, err := store.AppendEvent(t.Context(), abort); err != nil {
		t.Fatal(err)
	}
	if n, err := audit.CatchUp(t.Context(), s, log); err != nil || n != 1 {
		t.Fatalf("CatchUp after an out-of-order gap = %d, %v; want rollout 4's record added", n, err)
	}
	rs, err = s.ListAudit(t.Context(), audit.Filter{})
	if err != nil || len(rs) != 5 || rs[4].Target != "rollout 4 event 4" {
		t.Fatalf("audit = %+v, %v; want 5 records, the last rollout 4's UnhealthyInstances", rs, err)
	}
}

// cancelOnAppend cancels its context right after the wrapped store has
// stored an event, as a server stopping while a rollout ends does.
type cancelOnAppend struct {
	rollout.Store
	cancel context.CancelFunc
}

func (c cancelOnAppend) AppendEvent(ctx context.Context, e rollout.Event) (rollout.Event, error) {
	stored, err := c.Store.AppendEvent(ctx, e)
	c.cancel()
	return stored, err
}

// TestEvents_auditsAStoredDecisionAfterCancel: a decision stored just
// before the caller's context ends is still audited.
func TestEvents_auditsAStoredDecisionAfterCancel(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "gantry.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(t.Context())
	store := audit.Events(cancelOnAppend{Store: s, cancel: cancel}, audit.New(audit.Options{Store: s}))
	stored, err := store.AppendEvent(ctx, rollout.Event{Time: time.Now(), App: "a", Env: "production", RolloutID: 3,
		Type: rollout.Normal, Reason: "RolloutSucceeded", From: rollout.Progressing, To: rollout.Succeeded, Actor: "gantry"})
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() == nil {
		t.Fatal("the context was not cancelled after the event was stored")
	}
	rs, err := s.ListAudit(t.Context(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].EventID != stored.ID || rs[0].Action != "RolloutSucceeded" {
		t.Fatalf("audit records %+v; want the RolloutSucceeded decision of event %d", rs, stored.ID)
	}
}
