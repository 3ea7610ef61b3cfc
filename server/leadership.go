package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/leader"
)

// LeaderPath is the API route that tells who leads.
const LeaderPath = "/api/v1/leader"

// ForwardedByHeader marks a request a follower passed to the leader; a
// server that does not lead answers such a request 503 instead of passing
// it on again.
const ForwardedByHeader = "Gantry-Forwarded-By"

// LeaderHeader carries the leader's API URL on a follower's 503 answers.
const LeaderHeader = "Gantry-Leader"

// CodeNotLeader is the API error code of a write a follower could not pass
// to a leader (none leads at the moment, or it did not answer).
const CodeNotLeader = "not_leader"

// LeaderStatus is the body of GET /api/v1/leader and, with Status, of
// GET /ready.
type LeaderStatus struct {
	// Status is "pass" (in /ready): the server serves its API.
	Status string `json:"status,omitempty"`
	// Role is this server's: "leader" or "follower".
	Role leader.Role `json:"role"`
	// Self identifies this server.
	Self leader.Info `json:"self"`
	// Leader is the server that leads; nil while none does (a takeover is
	// under way).
	Leader *leader.Info `json:"leader,omitempty"`
}

// gate sends each API request where it can be answered. The leader answers
// everything itself. A follower answers reads from the store itself and
// passes the rest to the leader: writes (only the leader's engine changes
// rollouts, and applying an app opens the leader's proxies) and the reads
// of live state only the leader has (an environment's status with its
// instances and traffic, instance logs). A passed read the leader does not
// answer is answered locally from the store; a write gets 503 with the
// leader's address and Retry-After.
type gate struct {
	self    leader.Info
	elector leader.Elector
	// leads reports whether this server leads with its engine running.
	leads func() bool
	local http.Handler
	proxy *httputil.ReverseProxy
	logf  func(string, ...any)
}

// forwardKey holds a forwarded request's forwarding in its context.
type forwardKey struct{}

type forwarding struct {
	target *url.URL
	in     *http.Request // as it came, for answering locally when the leader does not
}

func newGate(self leader.Info, elector leader.Elector, leads func() bool, local http.Handler, logf func(string, ...any)) *gate {
	g := &gate{self: self, elector: elector, leads: leads, local: local, logf: logf}
	g.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(pr.In.Context().Value(forwardKey{}).(*forwarding).target)
			pr.SetXForwarded()
			pr.Out.Header.Set(ForwardedByHeader, self.ID)
		},
		FlushInterval: -1, // log streams
		ErrorHandler: func(w http.ResponseWriter, out *http.Request, err error) {
			g.forwardFailed(w, out.Context().Value(forwardKey{}).(*forwarding).in, err)
		},
	}
	return g
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		switch r.URL.Path {
		case LeaderPath:
			writeLeaderStatus(w, g.status(r.Context(), ""))
			return
		case "/ready":
			writeLeaderStatus(w, g.status(r.Context(), "pass"))
			return
		}
	}
	if g.leads() || servedByFollower(r) {
		g.local.ServeHTTP(w, r)
		return
	}
	if g.elector.Role() == leader.Leader {
		g.unavailable(w, r, "", fmt.Sprintf("this gantry server (%s) is taking over as the leader", g.self.ID))
		return
	}
	if by := r.Header.Get(ForwardedByHeader); by != "" {
		g.unavailable(w, r, "", fmt.Sprintf("server %s passed this request here as to the leader, but this server (%s) does not lead", by, g.self.ID))
		return
	}
	in, err := g.elector.Leader(r.Context())
	if err != nil {
		g.forwardFailed(w, r, err)
		return
	}
	target, err := url.Parse(in.APIURL)
	if err != nil || target.Host == "" {
		g.forwardFailed(w, r, fmt.Errorf("leader %s advertises a bad API URL %q", in.ID, in.APIURL))
		return
	}
	f := &forwarding{target: target}
	f.in = r.WithContext(context.WithValue(r.Context(), forwardKey{}, f))
	g.proxy.ServeHTTP(w, f.in)
}

// servedByFollower reports whether a follower answers r from its store.
func servedByFollower(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	return !strings.HasSuffix(p, "/status") && !strings.HasSuffix(p, "/logs")
}

// forwardFailed answers a request the leader did not take: a read from the
// store, a write with 503.
func (g *gate) forwardFailed(w http.ResponseWriter, r *http.Request, err error) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		g.local.ServeHTTP(w, r)
		return
	}
	addr := ""
	if in, lerr := g.elector.Leader(r.Context()); lerr == nil {
		addr = in.APIURL
	}
	msg := fmt.Sprintf("this gantry server (%s) follows and could not pass the request to the leader: %v", g.self.ID, err)
	if errors.Is(err, leader.ErrNoLeader) {
		msg = fmt.Sprintf("this gantry server (%s) follows and no server leads at the moment (a takeover takes a few seconds)", g.self.ID)
	}
	g.unavailable(w, r, addr, msg)
}

func (g *gate) unavailable(w http.ResponseWriter, r *http.Request, leaderURL, msg string) {
	if leaderURL != "" {
		w.Header().Set(LeaderHeader, leaderURL)
		msg += "; the leader is at " + leaderURL
	}
	msg += "; try again"
	g.logf("api: %s %s: %s", r.Method, r.URL.Path, msg)
	w.Header().Set("Retry-After", "1")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(w).Encode(api.ErrorBody{Error: api.Error{Code: CodeNotLeader, Message: msg}})
}

func (g *gate) status(ctx context.Context, status string) LeaderStatus {
	st := LeaderStatus{Status: status, Role: g.elector.Role(), Self: g.self}
	if in, err := g.elector.Leader(ctx); err == nil {
		st.Leader = &in
		if in.ID == g.self.ID {
			st.Self = in
		}
	}
	return st
}

func writeLeaderStatus(w http.ResponseWriter, st LeaderStatus) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(st)
}
