package postgres_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-dev/gantry/audit"
	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/internal/pgtest"
	"github.com/gantry-dev/gantry/store/postgres"
	"github.com/gantry-dev/gantry/store/storetest"
)

func TestTokenStore(t *testing.T) {
	cluster := pgtest.Start(t)
	var n atomic.Int64
	storetest.RunTokens(t, func(t *testing.T) auth.TokenStore {
		s, _ := openDB(t, cluster, fmt.Sprintf("tokens%d", n.Add(1)))
		return s
	})
}

func TestAuditStore(t *testing.T) {
	cluster := pgtest.Start(t)
	var n atomic.Int64
	storetest.RunAudit(t, func(t *testing.T) storetest.AuditHarness {
		s, url := openDB(t, cluster, fmt.Sprintf("audit%d", n.Add(1)))
		return storetest.AuditHarness{Store: s, Exec: func(ctx context.Context, q string) error {
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			_, err = conn.Exec(ctx, q)
			return err
		}}
	})
}

func openDB(t *testing.T, cluster *pgtest.Cluster, name string) (*postgres.Store, string) {
	url := cluster.CreateDB(t, name)
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, url
}

// TestAuditStore_twoServersOneChain appends from two stores (two pools,
// as two gantry servers would have) on one database at once: the
// advisory lock keeps the chain from forking.
func TestAuditStore_twoServersOneChain(t *testing.T) {
	cluster := pgtest.Start(t)
	a, url := openDB(t, cluster, "shared")
	b, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const each = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*each)
	for i, s := range []*postgres.Store{a, b} {
		wg.Go(func() {
			for j := range each {
				r := audit.Record{Time: time.Now(), Actor: fmt.Sprintf("server-%d", i), Action: "deploy", Outcome: "ok", Message: strconv.Itoa(j)}
				if _, err := s.AppendAudit(t.Context(), r); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("append: %v", err)
	}
	rep, err := audit.Verify(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Records != 2*each {
		t.Errorf("Verify after appends from two servers = %d records, problems %v; want %d, none", rep.Records, rep.Problems, 2*each)
	}
}
