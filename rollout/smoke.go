package rollout

import "context"

// SmokeTester runs a revision's smoke tests (spec.blueGreen.smokeTests)
// against the environment's preview listener.
type SmokeTester interface {
	// SmokeTest runs every test of rev in order and returns one result per
	// test; err is for failures to run them at all.
	SmokeTest(ctx context.Context, rev Revision) ([]SmokeResult, error)
}

// SmokeResult is one smoke test's outcome.
type SmokeResult struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	// Detail says what was seen: "HTTP 200 in 3ms" or "want status 200, got 503: ...".
	Detail string `json:"detail"`
}
