package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/audit"
	"github.com/gantry-dev/gantry/auth"
)

// auditRequest appends the audit record of a mutating request after it
// was answered. It runs on a context of its own, so a client that hangs
// up does not lose the record.
func (h *handler) auditRequest(r *http.Request, route Route, p auth.Principal, rec *recorder) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	ar := audit.Record{
		Time: h.opts.Now(), Actor: p.Name, TokenID: p.TokenID, Action: route.Access.Action,
		App: r.PathValue("app"), Env: r.PathValue("env"), Method: r.Method, Path: r.URL.Path,
		RemoteAddr: remoteAddr(r), Status: status, Outcome: audit.OutcomeOf(status),
	}
	if id := r.PathValue("id"); id != "" {
		ar.Target = id
	}
	if status >= 400 {
		var eb ErrorBody
		if json.Unmarshal(rec.body, &eb) == nil {
			ar.Message = eb.Error.Message
		}
	}
	if rec.target != "" {
		ar.Target = rec.target
	}
	if rec.message != "" && ar.Message == "" {
		ar.Message = rec.message
	}
	if rec.app != "" {
		ar.App = rec.app
		ar.Env = strings.Join(rec.envs, ",")
	}
	if rec.reason != "" {
		if ar.Message != "" {
			ar.Message = "reason: " + rec.reason + "; " + ar.Message
		} else {
			ar.Message = "reason: " + rec.reason
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	h.opts.Audit.Record(ctx, ar)
}

// setAuditTarget names what a request acted on (a rollout, a token) in
// its audit record.
func setAuditTarget(w http.ResponseWriter, target string) {
	if rec, ok := w.(*recorder); ok {
		rec.target = target
	}
}

// setAuditMessage says what a successful request changed (a flag's old
// and new value) in its audit record.
func setAuditMessage(w http.ResponseWriter, message string) {
	if rec, ok := w.(*recorder); ok {
		rec.message = message
	}
}

// setAuditApp names the app and environments a request acted on when its
// path does not (apply): the record's Env lists them joined by commas.
func setAuditApp(w http.ResponseWriter, app string, envs []string) {
	if rec, ok := w.(*recorder); ok {
		rec.app, rec.envs = app, envs
	}
}

// setAuditReason keeps the reason a user gave for a command (--reason)
// in its audit record's message.
func setAuditReason(w http.ResponseWriter, reason string) {
	if rec, ok := w.(*recorder); ok {
		rec.reason = reason
	}
}

// remoteAddr is the request's peer address and, when a proxy (such as a
// follower passing a write to the leader) says for whom it forwarded, that
// too: "10.0.0.2:41234 for 192.0.2.7". The forwarded part is as claimed.
func remoteAddr(r *http.Request) string {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		return r.RemoteAddr + " for " + xff
	}
	return r.RemoteAddr
}
