package sqlite_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/gantry-dev/gantry/audit"
	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/store/storetest"
)

func TestTokenStore(t *testing.T) {
	storetest.RunTokens(t, func(t *testing.T) auth.TokenStore { return openTemp(t) })
}

func TestAuditStore(t *testing.T) {
	storetest.RunAudit(t, func(t *testing.T) storetest.AuditHarness {
		s := openTemp(t)
		// A second, independent connection, as a person with the sqlite3
		// shell would have.
		db, err := sql.Open("sqlite", "file:"+s.Path()+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return storetest.AuditHarness{Store: s, Exec: func(ctx context.Context, q string) error {
			_, err := db.ExecContext(ctx, q)
			return err
		}}
	})
}

// BenchmarkStore_AppendAudit measures one chained audit append: a write
// transaction that reads the head, inserts the record and moves the head.
func BenchmarkStore_AppendAudit(b *testing.B) {
	s := openTemp(b)
	r := audit.Record{Time: time.Now(), Actor: "ci", Action: "deploy", App: "payments", Env: "production",
		Method: "POST", Path: "/api/v1/apps/payments/environments/production/deploy", RemoteAddr: "127.0.0.1:5000", Status: 201, Outcome: "ok"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.AppendAudit(b.Context(), r); err != nil {
			b.Fatal(err)
		}
	}
}
