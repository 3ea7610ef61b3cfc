package leader_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/internal/pgtest"
	"github.com/gantry-dev/gantry/leader"
)

// TestPostgres_LeadLogsADownDatabaseOnce: while the database is down a
// follower's polls are logged once, not each poll (the clock stands still,
// so no reminder is due).
func TestPostgres_LeadLogsADownDatabaseOnce(t *testing.T) {
	c := pgtest.Start(t)
	url := c.CreateDB(t, "gantry")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var polls atomic.Int64 // each failed poll reads the clock once
	var mu sync.Mutex
	var lines []string
	p, err := leader.NewPostgres(ctx, leader.PostgresOptions{
		URL: url, Self: leader.Info{ID: "b", APIURL: "http://b"}, Poll: time.Millisecond,
		Now:  func() time.Time { polls.Add(1); return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
		Logf: func(f string, a ...any) { mu.Lock(); lines = append(lines, fmt.Sprintf(f, a...)); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c.Stop()
	lctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Lead(lctx) }()
	for polls.Load() < 30 {
		select {
		case <-ctx.Done():
			t.Fatalf("only %d polls", polls.Load())
		case <-time.After(10 * time.Millisecond):
		}
	}
	stop()
	if err := <-done; err == nil {
		t.Fatal("Lead with the database down returned nil")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "campaign for leadership: leader election: ") {
		t.Fatalf("%d failed polls logged %q, want one line", polls.Load(), lines)
	}
}
