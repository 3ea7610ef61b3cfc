package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/rollout"
)

// waitingFor says who a paused rollout waits for where the environment's
// policy requires a second person to promote (four-eyes); "" elsewhere.
func (h *handler) waitingFor(env string, ro rollout.Rollout) string {
	if ro.Phase != rollout.Paused || !h.opts.Policy.NeedsApproval(env) {
		return ""
	}
	return fmt.Sprintf("waiting for a second approver: someone with role approver other than %s, who started it, promotes it with gantry rollout promote",
		cmp.Or(ro.Actor, "the token"))
}

func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	app, env, ok := h.appEnv(w, r)
	if !ok {
		return
	}
	st, err := h.readStatus(r.Context(), app, env)
	if err != nil {
		internalError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// Status returns app's status in env as GET .../status answers it, for
// in-process readers such as the dashboard's event stream. It does not
// check that the app or environment exist: an unknown one has no rollout,
// instances or traffic.
func (h *Handler) Status(ctx context.Context, app, env string) (Status, error) {
	return h.h.readStatus(ctx, app, env)
}

func (h *handler) readStatus(ctx context.Context, app, env string) (Status, error) {
	st := Status{App: app, Env: env, Revisions: []RevisionStatus{}}
	rs, err := h.opts.Store.ListRollouts(ctx, rollout.RolloutFilter{App: app, Env: env, Limit: 1})
	if err != nil {
		return st, err
	}
	if len(rs) > 0 {
		st.Rollout = &rs[0]
		st.Stable = rs[0].Stable()
		st.Waiting = h.waitingFor(env, rs[0])
		if la, ok := h.liveAnalysis(rs[0]); ok {
			st.Analysis = &la
		}
	}
	// One entry per revision and group of its instances (the baseline).
	type key struct {
		n     int
		group string
	}
	byRev := map[key]*RevisionStatus{}
	get := func(n int, group string) *RevisionStatus {
		if rs, ok := byRev[key{n, group}]; ok {
			return rs
		}
		rs := &RevisionStatus{Number: n, Group: group, Instances: []rollout.Instance{}, Traffic: RevisionTraffic{Revision: n, Group: group}}
		if rev, err := h.opts.Store.GetRevision(ctx, app, env, n); err == nil {
			rs.Version = rev.Version
		}
		byRev[key{n, group}] = rs
		return rs
	}
	if st.Rollout != nil {
		if st.Rollout.FromRevision != 0 {
			get(st.Rollout.FromRevision, "")
		}
		get(st.Rollout.ToRevision, "")
	}
	if h.opts.Instances != nil {
		for _, in := range h.opts.Instances(app, env) {
			rs := get(in.Revision, in.Group)
			rs.Instances = append(rs.Instances, in)
		}
	}
	if h.opts.DataPlane != nil {
		st.DataPlane = h.opts.DataPlane()
	}
	if h.opts.Traffic != nil {
		addr, traffic := h.opts.Traffic(app, env)
		st.ProxyAddr = addr
		for _, t := range traffic {
			if t.Revision == 0 {
				// Requests that found no ready instance of any revision.
				st.Unrouted = t.Requests
				continue
			}
			get(t.Revision, t.Group).Traffic = t
		}
	}
	if h.opts.Scrapes != nil {
		for _, sc := range h.opts.Scrapes(app, env) {
			rs := get(sc.Revision, sc.Group)
			rs.Scrapes = append(rs.Scrapes, sc)
		}
	}
	if h.opts.Conditions != nil {
		st.Conditions = h.opts.Conditions(app, env)
	}
	for _, rs := range byRev {
		st.Revisions = append(st.Revisions, *rs)
	}
	slices.SortFunc(st.Revisions, func(a, b RevisionStatus) int { return cmp.Or(a.Number-b.Number, strings.Compare(a.Group, b.Group)) })
	return st, nil
}

func (h *handler) history(w http.ResponseWriter, r *http.Request) {
	app, env, ok := h.appEnv(w, r)
	if !ok {
		return
	}
	limit, ok := intQuery(w, r, "limit", 20)
	if !ok {
		return
	}
	ctx := r.Context()
	rs, err := h.opts.Store.ListRollouts(ctx, rollout.RolloutFilter{App: app, Env: env, Limit: int(limit)})
	if err != nil {
		internalError(w, err)
		return
	}
	versions := map[int]string{} // every stored revision, by number
	revs, err := h.opts.Store.ListRevisions(ctx, app, env)
	if err != nil {
		internalError(w, err)
		return
	}
	for _, rev := range revs {
		versions[rev.Number] = rev.Version
	}
	out := make([]HistoryEntry, 0, len(rs))
	for _, ro := range rs {
		from, fromKept := versions[ro.FromRevision]
		to, toKept := versions[ro.ToRevision]
		out = append(out, HistoryEntry{Rollout: ro, FromVersion: from, ToVersion: to,
			FromPruned: ro.FromRevision != 0 && !fromKept, ToPruned: !toKept})
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) revisions(w http.ResponseWriter, r *http.Request) {
	app, env, ok := h.appEnv(w, r)
	if !ok {
		return
	}
	revs, err := h.opts.Store.ListRevisions(r.Context(), app, env)
	if err != nil {
		internalError(w, err)
		return
	}
	if revs == nil {
		revs = []rollout.Revision{}
	}
	writeJSON(w, http.StatusOK, revs)
}

func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	app, env, ok := h.appEnv(w, r)
	if !ok {
		return
	}
	after, ok := intQuery(w, r, "after", 0)
	if !ok {
		return
	}
	limit, ok := intQuery(w, r, "limit", 200)
	if !ok {
		return
	}
	rid, ok := intQuery(w, r, "rollout", 0)
	if !ok {
		return
	}
	evs, err := h.opts.Store.ListEvents(r.Context(), rollout.EventFilter{App: app, Env: env, AfterID: after, RolloutID: rid, Limit: int(limit)})
	if err != nil {
		internalError(w, err)
		return
	}
	if evs == nil {
		evs = []rollout.Event{}
	}
	writeJSON(w, http.StatusOK, evs)
}

// logs streams the tail of one instance's log as text; with follow=true
// it keeps streaming new output until the client goes away.
func (h *handler) logs(w http.ResponseWriter, r *http.Request) {
	app, env, ok := h.appEnv(w, r)
	if !ok {
		return
	}
	tail, ok := intQuery(w, r, "tailBytes", 64<<10)
	if !ok {
		return
	}
	follow := false
	if v := r.URL.Query().Get("follow"); v != "" {
		var err error
		if follow, err = strconv.ParseBool(v); err != nil {
			writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: fmt.Sprintf("query parameter follow=%q: want true or false", v)})
			return
		}
	}
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		var err error
		if since, err = time.Parse(time.RFC3339Nano, v); err != nil {
			writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: fmt.Sprintf("query parameter since=%q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", truncate(v, 80))})
			return
		}
	}
	if h.opts.Logs == nil {
		writeError(w, http.StatusNotFound, Error{Code: CodeNotFound, Message: "this server's backend keeps no instance logs"})
		return
	}
	inst := r.PathValue("instance")
	if !instanceName.MatchString(inst) || strings.Contains(inst, "..") {
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: fmt.Sprintf(
			"instance name %q is not valid: give a name from the instances of `gantry status %s --env %s` "+
				"(letters, digits, '.', '_' and '-', at most 253 characters)", truncate(inst, 80), app, env)})
		return
	}
	log, err := h.opts.Logs(r.Context(), app, env, inst, tail, follow, since)
	if errors.Is(err, rollout.ErrNotFound) {
		writeError(w, http.StatusNotFound, Error{Code: CodeNotFound, Message: err.Error()})
		return
	}
	if err != nil {
		// The error names the file; the client gets the reason only, never
		// the server's data path.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		writeError(w, http.StatusInternalServerError, Error{Code: CodeInternal, Message: fmt.Sprintf("read the log of instance %s: %v", inst, err)})
		return
	}
	defer log.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !follow {
		_, _ = io.Copy(w, log)
		return
	}
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	buf := make([]byte, 32<<10)
	for {
		n, err := log.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// instanceName is what an instance name may look like: a DNS-subdomain-like
// name, as every backend gives its instances.
var instanceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$`)

// truncate cuts s to at most n bytes for a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
