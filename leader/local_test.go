package leader_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/gantry-dev/gantry/leader"
)

func TestLocal_OneServerPerDataDir(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gantry.lock")
	a := leader.NewLocal(path, leader.Info{ID: "a", APIURL: "http://a"})
	b := leader.NewLocal(path, leader.Info{ID: "b", APIURL: "http://b"})
	defer a.Close()
	defer b.Close()

	if _, err := b.Leader(ctx); !errors.Is(err, leader.ErrNoLeader) {
		t.Errorf("Leader before leading: err = %v, want ErrNoLeader", err)
	}
	if ok, err := a.TryLead(ctx); !ok || err != nil {
		t.Fatalf("a.TryLead = %v, %v; want true", ok, err)
	}
	if got := a.Role(); got != leader.Leader {
		t.Errorf("a.Role = %s, want leader", got)
	}
	ok, err := b.TryLead(ctx)
	if ok || !errors.Is(err, leader.ErrLocked) {
		t.Fatalf("b.TryLead while a leads = %v, %v; want false, ErrLocked", ok, err)
	}
	if err := b.Lead(ctx); !errors.Is(err, leader.ErrLocked) {
		t.Errorf("b.Lead while a leads: %v, want ErrLocked", err)
	}
	if got, err := a.Leader(ctx); err != nil || got.ID != "a" {
		t.Errorf("a.Leader = %+v, %v; want a", got, err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.TryLead(ctx); !ok || err != nil {
		t.Fatalf("b.TryLead after a closed = %v, %v; want true", ok, err)
	}
}

func TestRole_String(t *testing.T) {
	for _, tc := range []struct {
		r    leader.Role
		want string
	}{{leader.Leader, "leader"}, {leader.Follower, "follower"}, {0, "Role(0)"}} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("Role(%d).String() = %q, want %q", int(tc.r), got, tc.want)
		}
	}
}
