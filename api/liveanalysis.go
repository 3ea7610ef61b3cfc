package api

import "github.com/gantry-dev/gantry/rollout"

// liveAnalysis returns ro's analysis as it stands while ro runs; ok is
// false when it has ended or none is judged.
func (h *handler) liveAnalysis(ro rollout.Rollout) (rollout.LiveAnalysis, bool) {
	if h.opts.Analysis == nil || ro.Phase.Final() {
		return rollout.LiveAnalysis{}, false
	}
	return h.opts.Analysis(ro.ID)
}
