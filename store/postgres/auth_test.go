package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

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
