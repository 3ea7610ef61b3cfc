package sqlite_test

import (
	"context"
	"database/sql"
	"testing"

	_ "modernc.org/sqlite"

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
