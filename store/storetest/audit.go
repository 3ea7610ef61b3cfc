package storetest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/audit"
)

// AuditHarness is an open, empty audit store and a way to change its
// tables behind its back, as someone with database access could.
type AuditHarness struct {
	Store audit.Store
	// Exec runs one SQL statement (no parameters) on the store's database.
	// The suite uses only SQL both SQLite and PostgreSQL accept.
	Exec func(ctx context.Context, sql string) error
}

// OpenAuditFunc opens a new, empty audit store for one test; it closes
// the store in t.Cleanup.
type OpenAuditFunc func(t *testing.T) AuditHarness

// RunAudit runs the conformance suite of audit.Store against stores that
// open makes, each subtest with a store of its own. The tables are
// audit_log (one row per record; columns named after Record's fields in
// snake_case) and audit_head (one row, id 1: seq, hash).
func RunAudit(t *testing.T, open OpenAuditFunc) {
	for _, tc := range auditTests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
	t.Run("Tamper", func(t *testing.T) {
		for _, tc := range tamperTests {
			t.Run(tc.name, func(t *testing.T) {
				h := open(t)
				rs := appendN(t, h.Store, 5)
				must(t, "tamper", h.Exec(ctx(t), tc.sql(rs)))
				rep, err := audit.Verify(ctx(t), h.Store)
				must(t, "Verify", err)
				if rep.OK() {
					t.Fatalf("Verify after %s: no problem found", tc.name)
				}
				got := rep.Problems[0]
				if got.Seq != tc.wantSeq || got.Kind != tc.wantKind {
					t.Errorf("Verify after %s: first problem = %v, want record %d: %v", tc.name, got, tc.wantSeq, tc.wantKind)
				}
			})
		}
	})
}

func auditRecord(i int) audit.Record {
	envs := []string{"staging", "production"}
	actors := []string{"ci", "alice", "gantry"}
	actions := []string{"deploy", "undo", "RolledBack"}
	r := audit.Record{
		Time: at(i).Add(time.Duration(i) * time.Nanosecond), Actor: actors[i%3], TokenID: fmt.Sprintf("tok_%d", i),
		Action: actions[i%3], App: "payments", Env: envs[i%2], Target: fmt.Sprintf("rollout %d", i),
		Method: "POST", Path: "/api/v1/apps/payments/environments/" + envs[i%2] + "/deploy",
		RemoteAddr: "127.0.0.1:5555", Status: 201, Outcome: "ok", Message: fmt.Sprintf("record %d — ünïcode", i),
	}
	if i%3 == 2 { // a decision: it names its rollout and event
		r.RolloutID, r.EventID = int64(i), int64(1000+i)
	}
	return r
}

// appendN appends records 0..n-1 and returns them as stored.
func appendN(t *testing.T, s audit.Store, n int) []audit.Record {
	t.Helper()
	var out []audit.Record
	for i := range n {
		r, err := s.AppendAudit(ctx(t), auditRecord(i))
		must(t, "AppendAudit", err)
		out = append(out, r)
	}
	return out
}

var auditTests = []struct {
	name string
	run  func(t *testing.T, h AuditHarness)
}{
	{"EmptyVerifies", func(t *testing.T, h AuditHarness) {
		rep, err := audit.Verify(ctx(t), h.Store)
		must(t, "Verify", err)
		if !rep.OK() || rep.Records != 0 || rep.Head != (audit.Head{}) {
			t.Errorf("Verify of an empty log = %+v, want no records, no problems, zero head", rep)
		}
	}},
	{"AppendLinks", func(t *testing.T, h AuditHarness) {
		in := auditRecord(0)
		in.Seq, in.Hash, in.PrevHash = 42, "forged", "forged" // ignored
		first, err := h.Store.AppendAudit(ctx(t), in)
		must(t, "AppendAudit", err)
		second, err := h.Store.AppendAudit(ctx(t), auditRecord(1))
		must(t, "AppendAudit", err)
		if first.Seq != 1 || first.PrevHash != "" || second.Seq != 2 || second.PrevHash != first.Hash {
			t.Errorf("appended (seq %d, prev %q), (seq %d, prev %q); want (1, \"\"), (2, the first's hash %q)",
				first.Seq, first.PrevHash, second.Seq, second.PrevHash, first.Hash)
		}
		if first.Hash != first.ComputeHash() || len(first.Hash) != 64 {
			t.Errorf("first record's hash %q is not the hex SHA-256 of its canonical encoding", first.Hash)
		}
		all, err := h.Store.ListAudit(ctx(t), audit.Filter{})
		must(t, "ListAudit", err)
		if want := []audit.Record{first, second}; !reflect.DeepEqual(all, want) {
			t.Errorf("ListAudit:\n got %+v\nwant %+v", all, want)
		}
		if !first.Time.Equal(at(0).Truncate(Precision)) || first.Time.Location() != time.UTC {
			t.Errorf("stored time = %v, want %v in UTC", first.Time, at(0))
		}
		head, err := h.Store.AuditHead(ctx(t))
		must(t, "AuditHead", err)
		if head != (audit.Head{Seq: 2, Hash: second.Hash}) {
			t.Errorf("AuditHead = %+v, want seq 2 and the second record's hash", head)
		}
		rep, err := audit.Verify(ctx(t), h.Store)
		must(t, "Verify", err)
		if !rep.OK() || rep.Records != 2 {
			t.Errorf("Verify = %+v, want 2 records, no problems", rep)
		}
	}},
	{"Filters", func(t *testing.T, h AuditHarness) {
		rs := appendN(t, h.Store, 9)
		seqs := func(f audit.Filter) []int64 {
			got, err := h.Store.ListAudit(ctx(t), f)
			must(t, "ListAudit", err)
			out := []int64{}
			for _, r := range got {
				out = append(out, r.Seq)
			}
			return out
		}
		for _, tc := range []struct {
			name string
			f    audit.Filter
			want []int64
		}{
			{"all", audit.Filter{}, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9}},
			{"actor", audit.Filter{Actor: "alice"}, []int64{2, 5, 8}},
			{"env", audit.Filter{Env: "production"}, []int64{2, 4, 6, 8}},
			{"action", audit.Filter{Action: "deploy"}, []int64{1, 4, 7}},
			{"since", audit.Filter{Since: rs[6].Time}, []int64{7, 8, 9}},
			{"after", audit.Filter{AfterSeq: 7}, []int64{8, 9}},
			{"limit", audit.Filter{Limit: 2}, []int64{1, 2}},
			{"newest", audit.Filter{Limit: 2, Newest: true}, []int64{8, 9}},
			{"combined", audit.Filter{Env: "staging", Actor: "ci", AfterSeq: 1}, []int64{7}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := seqs(tc.f); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("ListAudit(%+v) seqs = %v, want %v", tc.f, got, tc.want)
				}
			})
		}
	}},
	{"ConcurrentAppendsDoNotFork", func(t *testing.T, h AuditHarness) {
		const writers, each = 8, 15
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					if _, err := h.Store.AppendAudit(ctx(t), auditRecord(w*each+i)); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent AppendAudit: %v", err)
		}
		rep, err := audit.Verify(ctx(t), h.Store)
		must(t, "Verify", err)
		if !rep.OK() || rep.Records != writers*each || rep.Head.Seq != writers*each {
			t.Errorf("Verify after %d concurrent appends = %d records, head %d, problems %v; want all, no problems",
				writers*each, rep.Records, rep.Head.Seq, rep.Problems)
		}
	}},
}

var tamperTests = []struct {
	name     string
	sql      func(rs []audit.Record) string
	wantSeq  int64
	wantKind audit.ProblemKind
}{
	{"edit actor", func([]audit.Record) string {
		return `UPDATE audit_log SET actor = 'mallory' WHERE seq = 3`
	}, 3, audit.ContentChanged},
	{"edit status", func([]audit.Record) string {
		return `UPDATE audit_log SET status = 200 WHERE seq = 2`
	}, 2, audit.ContentChanged},
	{"edit time", func([]audit.Record) string {
		return `UPDATE audit_log SET time = NULL WHERE seq = 5`
	}, 5, audit.ContentChanged},
	{"clear a decision's event ID", func([]audit.Record) string {
		return `UPDATE audit_log SET event_id = 0 WHERE seq = 3`
	}, 3, audit.ContentChanged},
	{"give a request record an event ID", func([]audit.Record) string {
		return `UPDATE audit_log SET event_id = 7, rollout_id = 7 WHERE seq = 2`
	}, 2, audit.ContentChanged},
	{"delete middle", func([]audit.Record) string {
		return `DELETE FROM audit_log WHERE seq = 3`
	}, 3, audit.RecordMissing},
	{"delete first", func([]audit.Record) string {
		return `DELETE FROM audit_log WHERE seq = 1`
	}, 1, audit.RecordMissing},
	{"delete newest", func([]audit.Record) string {
		return `DELETE FROM audit_log WHERE seq = 5`
	}, 5, audit.RecordMissing},
	{"delete all", func([]audit.Record) string {
		return `DELETE FROM audit_log`
	}, 1, audit.RecordMissing},
	{"edit and rehash", func(rs []audit.Record) string {
		// A valid hash for the edited record: only the next link shows it.
		r := rs[2]
		r.Actor = "mallory"
		return fmt.Sprintf(`UPDATE audit_log SET actor = 'mallory', hash = '%s' WHERE seq = 3`, r.ComputeHash())
	}, 4, audit.ChainBroken},
	{"rewrite newest", func(rs []audit.Record) string {
		r := rs[4]
		r.Outcome = "denied"
		return fmt.Sprintf(`UPDATE audit_log SET outcome = 'denied', hash = '%s' WHERE seq = 5`, r.ComputeHash())
	}, 5, audit.ChainBroken},
}
