package pgtest_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-dev/gantry/internal/pgtest"
)

func TestStart(t *testing.T) {
	c := pgtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	url := c.CreateDB(t, "gantry_test")
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to %s: %v", url, err)
	}
	defer conn.Close(ctx)

	var version, db string
	if err := conn.QueryRow(ctx, "SELECT version(), current_database()").Scan(&version, &db); err != nil {
		t.Fatalf("query version: %v", err)
	}
	if !strings.HasPrefix(version, "PostgreSQL ") {
		t.Errorf("version() = %q, want it to start with \"PostgreSQL \"", version)
	}
	if db != "gantry_test" {
		t.Errorf("current_database() = %q, want gantry_test", db)
	}

	// The unix socket works too.
	sock, err := pgx.Connect(ctx, "host="+c.SocketDir+" port="+strconv.Itoa(c.Port)+" user="+pgtest.User+" dbname=gantry_test")
	if err != nil {
		t.Fatalf("connect over the unix socket in %s: %v", c.SocketDir, err)
	}
	sock.Close(ctx)
}

func TestCluster_stopsOnCleanup(t *testing.T) {
	var url string
	t.Run("inner", func(t *testing.T) {
		c := pgtest.Start(t)
		url = c.URL("postgres")
	})
	if url == "" {
		t.Skip("inner test skipped")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if conn, err := pgx.Connect(ctx, url); err == nil {
		conn.Close(ctx)
		t.Errorf("connect to %s after the test ended: succeeded, want refused", url)
	}
}
