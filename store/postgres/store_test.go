package postgres_test

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-dev/gantry/featureflag"
	"github.com/gantry-dev/gantry/internal/pgtest"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/store/postgres"
	"github.com/gantry-dev/gantry/store/storetest"
)

func TestStore(t *testing.T) {
	cluster := pgtest.Start(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) rollout.Store {
		url := cluster.CreateDB(t, fmt.Sprintf("store%d", n.Add(1)))
		s, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestOpen_migrations(t *testing.T) {
	cluster := pgtest.Start(t)
	url := cluster.CreateDB(t, "gantry")
	for i := range 2 { // the second Open finds the schema current
		s, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatalf("open %d: %v", i+1, err)
		}
		s.Close()
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), `UPDATE gantry_schema_version SET version = $1`, postgres.SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(t.Context(), url)
	if err == nil {
		s.Close()
		t.Fatal("Open of a database from a newer gantry: no error")
	}
	if !errors.Is(err, postgres.ErrSchemaTooNew) {
		t.Errorf("Open of a database from a newer gantry: error = %v, want ErrSchemaTooNew", err)
	}
}

func TestStore_flags(t *testing.T) {
	cluster := pgtest.Start(t)
	var n atomic.Int64
	storetest.RunFlags(t, func(t *testing.T) featureflag.Store {
		url := cluster.CreateDB(t, fmt.Sprintf("flags%d", n.Add(1)))
		s, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
