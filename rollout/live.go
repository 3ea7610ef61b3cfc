package rollout

import (
	"time"

	"github.com/gantry-dev/gantry/analysis"
)

// LiveAnalysis is a running rollout's analysis as it stands after its
// latest observation: each trigger's and each sequential test's current
// value against its threshold, with the counts compared. It changes about
// once a second while the rollout is judged (canary, blue-green, the
// baseline of a rolling update), paused ones included.
type LiveAnalysis struct {
	// Rollout is the rollout's ID.
	Rollout int64 `json:"rollout"`
	// At is when the observation was made.
	At time.Time `json:"at"`
	// Action is the latest verdict's action; Message its reasons in words.
	Action  analysis.Action `json:"action"`
	Message string          `json:"message"`
	analysis.Standing
}

// LiveAnalysis returns the analysis of rollout id as it stands; ok is
// false when this engine judges no such rollout now (not begun, ended, or
// another server leads). Safe to call from any goroutine.
func (e *Engine) LiveAnalysis(id int64) (la LiveAnalysis, ok bool) {
	e.cache.Lock()
	defer e.cache.Unlock()
	run := e.analyses[id]
	if run == nil || run.live == nil {
		return LiveAnalysis{}, false
	}
	return *run.live, true
}

// keepLive records run's standing after obs and its verdict v, for
// LiveAnalysis.
func (e *Engine) keepLive(id int64, run *analysisRun, obs analysis.Observation, v analysis.Verdict) {
	la := &LiveAnalysis{Rollout: id, At: obs.At, Action: v.Action, Message: verdictMessage(v), Standing: run.an.Standing(obs)}
	e.cache.Lock()
	run.live = la
	e.cache.Unlock()
}
