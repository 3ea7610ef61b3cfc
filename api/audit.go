package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gantry-dev/gantry/audit"
)

// auditStore returns the audit log's store, answering 501 when the server
// keeps no audit log.
func (h *handler) auditStore(w http.ResponseWriter) (audit.Store, bool) {
	if h.opts.Audit == nil {
		writeError(w, http.StatusNotImplemented, Error{Code: CodeNotImplemented, Message: "this server keeps no audit log"})
		return nil, false
	}
	return h.opts.Audit.Store(), true
}

// listAudit answers GET /api/v1/audit?actor=&env=&action=&since=&after=&limit=,
// records in sequence order; with limit, the newest limit of them.
func (h *handler) listAudit(w http.ResponseWriter, r *http.Request) {
	s, ok := h.auditStore(w)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := audit.Filter{Actor: q.Get("actor"), Env: q.Get("env"), Action: q.Get("action"), Newest: true}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: fmt.Sprintf("query parameter since=%q is not an RFC 3339 time such as 2026-05-20T10:00:00Z", v)})
			return
		}
		f.Since = t
	}
	after, ok := intQuery(w, r, "after", 0)
	if !ok {
		return
	}
	limit, ok := intQuery(w, r, "limit", 1000)
	if !ok {
		return
	}
	f.AfterSeq, f.Limit = after, int(limit)
	rs, err := s.ListAudit(r.Context(), f)
	if err != nil {
		internalError(w, err)
		return
	}
	if rs == nil {
		rs = []audit.Record{}
	}
	writeJSON(w, http.StatusOK, rs)
}

// verifyAudit answers GET /api/v1/audit/verify with an audit.Report.
func (h *handler) verifyAudit(w http.ResponseWriter, r *http.Request) {
	s, ok := h.auditStore(w)
	if !ok {
		return
	}
	rep, err := audit.Verify(r.Context(), s)
	if err != nil {
		internalError(w, err)
		return
	}
	if rep.Problems == nil {
		rep.Problems = []audit.Problem{}
	}
	writeJSON(w, http.StatusOK, rep)
}
