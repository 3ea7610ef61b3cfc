package leader_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-dev/gantry/internal/pgtest"
	"github.com/gantry-dev/gantry/leader"
)

func newPostgres(t *testing.T, url, id string) *leader.Postgres {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := leader.NewPostgres(ctx, leader.PostgresOptions{
		URL: url, Self: leader.Info{ID: id, APIURL: "http://" + id}, Poll: 50 * time.Millisecond, Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestPostgres_TakeoverWhenLeaderGoes(t *testing.T) {
	url := pgtest.Start(t).CreateDB(t, "gantry")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, b := newPostgres(t, url, "a"), newPostgres(t, url, "b")

	if ok, err := a.TryLead(ctx); !ok || err != nil {
		t.Fatalf("a.TryLead = %v, %v; want true", ok, err)
	}
	if ok, err := b.TryLead(ctx); ok || err != nil {
		t.Fatalf("b.TryLead while a leads = %v, %v; want false, nil", ok, err)
	}
	got, err := b.Leader(ctx)
	if err != nil || got.ID != "a" || got.APIURL != "http://a" || got.Term != 1 {
		t.Fatalf("b.Leader = %+v, %v; want a at http://a, term 1", got, err)
	}
	if b.Role() != leader.Follower || a.Role() != leader.Leader {
		t.Errorf("roles: a %s, b %s; want leader, follower", a.Role(), b.Role())
	}

	done := make(chan error, 1)
	go func() { done <- b.Lead(ctx) }()
	a.Close()
	if err := <-done; err != nil {
		t.Fatalf("b.Lead after a closed: %v", err)
	}
	got, err = b.Leader(ctx)
	if err != nil || got.ID != "b" || got.Term != 2 {
		t.Errorf("b.Leader after takeover = %+v, %v; want b, term 2", got, err)
	}
}

func TestPostgres_LeaderWhoseConnectionEndsStepsDown(t *testing.T) {
	url := pgtest.Start(t).CreateDB(t, "gantry")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a := newPostgres(t, url, "a")
	if ok, err := a.TryLead(ctx); !ok || err != nil {
		t.Fatalf("a.TryLead = %v, %v; want true", ok, err)
	}
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'gantry-leader a'`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Lost():
	case <-ctx.Done():
		t.Fatal("Lost never closed after the lock connection was terminated")
	}
	if a.Role() != leader.Follower {
		t.Errorf("Role after loss = %s, want follower", a.Role())
	}
	if _, err := a.Leader(ctx); !errors.Is(err, leader.ErrNoLeader) {
		t.Errorf("Leader after loss: %v, want ErrNoLeader", err)
	}
	b := newPostgres(t, url, "b")
	if ok, err := b.TryLead(ctx); !ok || err != nil {
		t.Fatalf("b.TryLead after a lost its connection = %v, %v; want true", ok, err)
	}
}
