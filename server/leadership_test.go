package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/leader"
)

// fixedElector is an Elector whose answers the test sets.
type fixedElector struct {
	role   leader.Role
	leader *leader.Info
}

func (e *fixedElector) TryLead(context.Context) (bool, error) { return e.role == leader.Leader, nil }
func (e *fixedElector) Lead(context.Context) error            { return nil }
func (e *fixedElector) Role() leader.Role                     { return e.role }
func (e *fixedElector) Lost() <-chan struct{}                 { return nil }
func (e *fixedElector) Close() error                          { return nil }
func (e *fixedElector) Leader(context.Context) (leader.Info, error) {
	if e.leader == nil {
		return leader.Info{}, leader.ErrNoLeader
	}
	return *e.leader, nil
}

var _ leader.Elector = (*fixedElector)(nil)

// answer is a handler that says who answered and what it got.
func answer(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, name+" "+r.Method+" "+r.URL.Path+" "+string(b)+" by="+r.Header.Get(ForwardedByHeader))
	})
}

func TestGate_FollowerForwardsWritesAndLiveReads(t *testing.T) {
	leaderSrv := httptest.NewServer(answer("leader"))
	defer leaderSrv.Close()
	el := &fixedElector{role: leader.Follower, leader: &leader.Info{ID: "a", APIURL: leaderSrv.URL}}
	g := newGate(leader.Info{ID: "b", APIURL: "http://b"}, el, func() bool { return false }, answer("local"), t.Logf)
	follower := httptest.NewServer(g)
	defer follower.Close()

	tests := []struct {
		method, path, body, want string
	}{
		{"POST", "/api/v1/apps/web/environments/prod/deploy", `{"version":"v2"}`,
			`leader POST /api/v1/apps/web/environments/prod/deploy {"version":"v2"} by=b`},
		{"GET", "/api/v1/apps/web/environments/prod/status", "", "leader GET /api/v1/apps/web/environments/prod/status  by=b"},
		{"GET", "/api/v1/apps/web/environments/prod/rollouts", "", "local GET /api/v1/apps/web/environments/prod/rollouts  by="},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			got, status, _ := call(t, follower.URL, tc.method, tc.path, tc.body, nil)
			if status != http.StatusOK || got != tc.want {
				t.Errorf("got %d %q, want 200 %q", status, got, tc.want)
			}
		})
	}

	t.Run("leader unreachable", func(t *testing.T) {
		leaderSrv.Close()
		got, status, _ := call(t, follower.URL, "GET", "/api/v1/apps/web/environments/prod/status", "", nil)
		if status != http.StatusOK || !strings.HasPrefix(got, "local GET") {
			t.Errorf("status read: got %d %q, want the local answer", status, got)
		}
		got, status, h := call(t, follower.URL, "POST", "/api/v1/apps/web/environments/prod/deploy", "{}", nil)
		if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || h.Get(LeaderHeader) != leaderSrv.URL {
			t.Errorf("write: got %d %v %q, want 503 with Retry-After and the leader", status, h, got)
		}
		var eb api.ErrorBody
		if err := json.Unmarshal([]byte(got), &eb); err != nil || eb.Error.Code != CodeNotLeader {
			t.Errorf("write: body %q, want error code %s", got, CodeNotLeader)
		}
	})
}

func TestGate_NoLeaderAndLoops(t *testing.T) {
	el := &fixedElector{role: leader.Follower}
	g := newGate(leader.Info{ID: "b", APIURL: "http://b"}, el, func() bool { return false }, answer("local"), t.Logf)
	srv := httptest.NewServer(g)
	defer srv.Close()
	if _, status, _ := call(t, srv.URL, "POST", "/api/v1/apps", "{}", nil); status != http.StatusServiceUnavailable {
		t.Errorf("write with no leader: %d, want 503", status)
	}
	el.leader = &leader.Info{ID: "a", APIURL: "http://127.0.0.1:1"}
	if _, status, _ := call(t, srv.URL, "POST", "/api/v1/apps", "{}", map[string]string{ForwardedByHeader: "c"}); status != http.StatusServiceUnavailable {
		t.Errorf("forwarded write reaching a follower: %d, want 503", status)
	}
}

func TestGate_LeaderStatus(t *testing.T) {
	self := leader.Info{ID: "a", APIURL: "http://a", Term: 3}
	for _, tc := range []struct {
		name    string
		el      *fixedElector
		path    string
		want    LeaderStatus
		leadsIt bool
	}{
		{"leader", &fixedElector{role: leader.Leader, leader: &self}, LeaderPath,
			LeaderStatus{Role: leader.Leader, Self: self, Leader: &self}, true},
		{"follower ready", &fixedElector{role: leader.Follower, leader: &leader.Info{ID: "z", APIURL: "http://z"}}, "/ready",
			LeaderStatus{Status: "pass", Role: leader.Follower, Self: leader.Info{ID: "a", APIURL: "http://a"}, Leader: &leader.Info{ID: "z", APIURL: "http://z"}}, false},
		{"no leader", &fixedElector{role: leader.Follower}, LeaderPath,
			LeaderStatus{Role: leader.Follower, Self: leader.Info{ID: "a", APIURL: "http://a"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGate(leader.Info{ID: "a", APIURL: "http://a"}, tc.el, func() bool { return tc.leadsIt }, answer("local"), t.Logf)
			srv := httptest.NewServer(g)
			defer srv.Close()
			body, status, _ := call(t, srv.URL, "GET", tc.path, "", nil)
			var got LeaderStatus
			if err := json.Unmarshal([]byte(body), &got); err != nil || status != http.StatusOK {
				t.Fatalf("GET %s: %d %q: %v", tc.path, status, body, err)
			}
			if got.Role != tc.want.Role || got.Status != tc.want.Status || got.Self.ID != tc.want.Self.ID ||
				(got.Leader == nil) != (tc.want.Leader == nil) || (got.Leader != nil && got.Leader.APIURL != tc.want.Leader.APIURL) {
				t.Errorf("GET %s = %+v, want %+v", tc.path, got, tc.want)
			}
		})
	}
}

func call(t *testing.T, base, method, path, body string, header map[string]string) (string, int, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode, resp.Header
}
