package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/internal/pgtest"
	"github.com/gantry-dev/gantry/leader"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/server"
)

// leaderStatus reads GET /api/v1/leader of the server at base.
func leaderStatus(ctx context.Context, base string) (server.LeaderStatus, error) {
	var st server.LeaderStatus
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+server.LeaderPath, nil)
	if err != nil {
		return st, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return st, fmt.Errorf("GET %s: %s: %s", server.LeaderPath, resp.Status, b)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// waitRole waits until the server at base reports role.
func waitRole(ctx context.Context, t *testing.T, base string, role leader.Role) server.LeaderStatus {
	t.Helper()
	for {
		st, err := leaderStatus(ctx, base)
		if err == nil && st.Role == role {
			return st
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never became %s: last %+v, %v", base, role, st, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestServer_HAFollowerTakesOverMidRollout runs two servers on one
// machine, one PostgreSQL database and one data directory, kills the
// leader with SIGKILL in the middle of a rolling update, and checks that
// the follower takes over, adopts the instances and finishes the rollout.
func TestServer_HAFollowerTakesOverMidRollout(t *testing.T) {
	db := pgtest.Start(t).CreateDB(t, "gantry")
	killInstancesAtEnd(t)
	data := t.TempDir()
	proxyAddr := freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	a := startServerProc(t, data, freeAddr(t), "--database", db, "--stop-instances-on-exit")
	waitRole(ctx, t, a.url, leader.Leader)
	b := startServerProc(t, data, freeAddr(t), "--database", db, "--stop-instances-on-exit")
	st := waitRole(ctx, t, b.url, leader.Follower)
	if st.Leader == nil || st.Leader.APIURL != a.url {
		t.Fatalf("follower sees leader %+v, want %s", st.Leader, a.url)
	}

	// Everything goes through the follower, which forwards writes.
	c, err := client.New(client.Options{Server: b.url, Actor: "test", Token: a.token})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, "gantry.yaml", []byte(appSpec(proxyAddr, 120))); err != nil {
		t.Fatalf("apply through the follower: %v", err)
	}
	r, err := c.Deploy(ctx, "web", "prod", "v1")
	if err != nil {
		t.Fatalf("deploy through the follower: %v", err)
	}
	if r, err = c.WaitRollout(ctx, r.ID, 100*time.Millisecond, nil); err != nil || r.Phase != rollout.Succeeded {
		t.Fatalf("v1: %v %s", err, r.Phase)
	}
	r, err = c.Deploy(ctx, "web", "prod", "v2+slow-start=2s")
	if err != nil {
		t.Fatal(err)
	}
	before := waitMidway(ctx, t, c)

	killed := time.Now()
	a.cmd.Process.Signal(syscall.SIGKILL)
	a.cmd.Wait()
	st = waitRole(ctx, t, b.url, leader.Leader)
	t.Logf("takeover: the follower led %v after the leader's SIGKILL (term %d)", time.Since(killed).Round(time.Millisecond), st.Self.Term)
	if st.Self.Term < 2 {
		t.Errorf("term after takeover = %d, want at least 2", st.Self.Term)
	}

	if r, err = c.WaitRollout(ctx, r.ID, 100*time.Millisecond, nil); err != nil || r.Phase != rollout.Succeeded {
		t.Fatalf("rollout after takeover: %v %s %s: %s", err, r.Phase, r.Reason, r.Message)
	}
	var now map[string]int
	for deadline := time.Now().Add(60 * time.Second); ; {
		now = map[string]int{}
		s := mustStatus(ctx, t, c)
		ok := true
		for _, rs := range s.Revisions {
			for _, in := range rs.Instances {
				now[in.ID] = in.PID
				ok = ok && in.Revision == r.ToRevision && in.Ready
			}
		}
		if ok && len(now) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the takeover: instances %+v, want 3 of revision %d, ready", s.Revisions, r.ToRevision)
		}
		time.Sleep(100 * time.Millisecond)
	}
	adopted := 0
	for _, in := range before {
		if pid, ok := now[in.ID]; ok && pid == in.PID {
			adopted++
		}
	}
	if adopted == 0 {
		t.Errorf("the new leader adopted none of the instances running before the kill: before %+v, now %v", before, now)
	}
	for pid, id := range instanceProcesses(t) {
		if now[id] != pid {
			t.Errorf("orphan instance process %d (%s) runs outside the new leader's view", pid, id)
		}
	}
	resp, err := http.Get("http://" + proxyAddr + "/")
	if err != nil {
		t.Fatalf("the proxy after the takeover: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "v2") {
		t.Errorf("the proxy after the takeover: %s %q, want 200 from v2", resp.Status, body)
	}

	b.cmd.Process.Signal(syscall.SIGTERM)
	if err := b.cmd.Wait(); err != nil {
		t.Errorf("server exit: %v", err)
	}
}
