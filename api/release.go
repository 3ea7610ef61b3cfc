package api

import (
	"fmt"
	"net/http"

	"github.com/gantry-dev/gantry/pipeline"
	"github.com/gantry-dev/gantry/release"
	"github.com/gantry-dev/gantry/rollout"
)

// release answers GET .../release?version=V: the release record of V in
// the environment (V empty: the stable version).
func (h *handler) release(w http.ResponseWriter, r *http.Request) {
	pl, ok := h.pipeline(w)
	if !ok {
		return
	}
	a, e, ok := h.appEnvironment(w, r)
	if !ok {
		return
	}
	env := e.Name
	ctx := r.Context()
	version := r.URL.Query().Get("version")
	if version == "" {
		_, v, err := pipeline.StableRevision(ctx, h.opts.Store, a.Name, env)
		if err != nil {
			internalError(w, err)
			return
		}
		if v == "" {
			writeError(w, http.StatusNotFound, Error{Code: CodeNotFound, Message: fmt.Sprintf("%s has no release in %s yet; name a version", a.Name, env)})
			return
		}
		version = v
	}
	f := release.Facts{App: a.Name, Env: env, Version: version}
	ros, err := h.opts.Store.ListRollouts(ctx, rollout.RolloutFilter{App: a.Name, Env: env})
	if err != nil {
		internalError(w, err)
		return
	}
	for _, ro := range ros { // newest first
		rev, err := h.opts.Store.GetRevision(ctx, a.Name, env, ro.ToRevision)
		if err != nil || rev.Version != version {
			continue
		}
		f.Revision, f.SpecDigest, f.RolloutID, f.Phase = rev.Number, pipeline.SpecDigest(rev.Spec), ro.ID, ro.Phase.String()
		f.DeployedBy, f.StartedAt, f.FinishedAt = ro.Actor, ro.CreatedAt, ro.FinishedAt
		break
	}
	if f.Checks, err = pl.Store.ListChecks(ctx, a.Name, env, version); err == nil {
		f.Approvals, err = pl.Store.ListApprovals(ctx, a.Name, env, version)
	}
	if err == nil {
		f.Runs, err = pl.Store.ListRuns(ctx, a.Name, false)
	}
	if err != nil {
		internalError(w, err)
		return
	}
	if f.RolloutID == 0 && len(f.Checks) == 0 && len(f.Approvals) == 0 {
		writeError(w, http.StatusNotFound, Error{Code: CodeNotFound, Message: fmt.Sprintf("%s %s was never deployed to %s, approved or checked there", a.Name, version, env)})
		return
	}
	if rn := a.Spec.ReleaseNotes; rn != nil && pl.ReadFile != nil {
		data, err := pl.ReadFile(rn.Changelog)
		switch notes, ok := release.Notes(data, version); {
		case err != nil:
			f.NotesSource = fmt.Sprintf("%s could not be read: %v", rn.Changelog, err)
		case !ok:
			f.NotesSource = fmt.Sprintf("%s has no section for %s", rn.Changelog, version)
		default:
			f.Notes, f.NotesSource = notes, rn.Changelog
		}
	}
	writeJSON(w, http.StatusOK, release.Build(f))
}
