package backendtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/gantry-dev/gantry/rollout"
)

// groupOf keeps the instances of revision rev in group.
func groupOf(instances []rollout.Instance, rev int, group string) []rollout.Instance {
	var out []rollout.Instance
	for _, in := range Of(instances, rev) {
		if in.Group == group {
			out = append(out, in)
		}
	}
	return out
}

// readyIn counts the ready instances of rev in group, and all of them.
func readyIn(instances []rollout.Instance, rev int, group string) (ready, all int) {
	for _, in := range groupOf(instances, rev, group) {
		all++
		if in.Ready {
			ready++
		}
	}
	return ready, all
}

// testGroups: a backend that runs groups (rollout.GroupBackend) keeps a
// revision's baseline group apart from its primary instances: each is
// scaled without touching the other, its instances carry the group, and
// a new backend adopts them into the same group.
func testGroups(t *testing.T, h Harness) {
	gb, ok := h.Backend.(rollout.GroupBackend)
	if !ok {
		t.Skip("the backend runs no groups (rollout.GroupBackend)")
	}
	rev := h.Revision("groups", "test", 1, "v1")
	scale(t, h, rev, 2)
	scaleGroup := func(g rollout.GroupBackend, n int) {
		t.Helper()
		if err := g.ScaleGroup(context.Background(), rev, rollout.GroupBaseline, n); err != nil {
			t.Fatalf("ScaleGroup(revision 1, baseline, %d): %v", n, err)
		}
	}
	waitGroups := func(instances func() []rollout.Instance, primary, baseline int) []rollout.Instance {
		t.Helper()
		var got []rollout.Instance
		WaitFor(t, h.Timeout, fmt.Sprintf("%d primary and %d baseline instances of revision 1, all ready", primary, baseline), func() (bool, string) {
			got = instances()
			pr, pa := readyIn(got, 1, rollout.GroupPrimary)
			br, ba := readyIn(got, 1, rollout.GroupBaseline)
			return pr == primary && pa == primary && br == baseline && ba == baseline && len(got) == primary+baseline, Describe(got)
		})
		return got
	}
	current := func() []rollout.Instance { return h.Backend.Instances("groups", "test") }
	scaleGroup(gb, 1)
	got := waitGroups(current, 2, 1)
	base := groupOf(got, 1, rollout.GroupBaseline)[0]
	answersVersion(t, base.Addr, "v1")

	// Scaling the primary instances leaves the baseline alone, and back.
	scale(t, h, rev, 1)
	got = waitGroups(current, 1, 1)
	if b := groupOf(got, 1, rollout.GroupBaseline)[0]; b.ID != base.ID {
		t.Errorf("scaling the primary instances replaced the baseline %s with %s", base.ID, b.ID)
	}
	scaleGroup(gb, 2)
	got = waitGroups(current, 1, 2)
	primary := groupOf(got, 1, rollout.GroupPrimary)[0]

	if h.Reopen != nil {
		h.Backend.Release()
		next := h.Reopen(t)
		lookup := func(app, env string, n int) (rollout.Revision, error) { return rev, nil }
		if err := next.Recover(context.Background(), lookup); err != nil {
			t.Fatalf("Recover: %v", err)
		}
		current = func() []rollout.Instance { return next.Instances("groups", "test") }
		adopted := waitGroups(current, 1, 2)
		if p := groupOf(adopted, 1, rollout.GroupPrimary)[0]; p.ID != primary.ID {
			t.Errorf("after adoption the primary instance is %s, want %s", p.ID, primary.ID)
		}
		gb, ok = next.(rollout.GroupBackend)
		if !ok {
			t.Fatalf("the reopened backend runs no groups")
		}
		h.Backend = next
	}
	scaleGroup(gb, 0)
	got = waitGroups(current, 1, 0)
	if p := groupOf(got, 1, rollout.GroupPrimary)[0]; p.ID != primary.ID {
		t.Errorf("stopping the baseline replaced the primary instance %s with %s", primary.ID, p.ID)
	}
	if _, _, err := Get(base.Addr, "/"); err == nil {
		t.Errorf("stopped baseline instance %s still answers on %s", base.ID, base.Addr)
	}
}
