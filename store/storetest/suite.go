package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/rollout"
)

// Precision is how finely stores keep times; finer parts are truncated.
const Precision = time.Microsecond

// OpenFunc opens a new, empty store for one test; it closes the store in
// t.Cleanup.
type OpenFunc func(t *testing.T) rollout.Store

// Run runs the whole suite against stores that open makes, each subtest
// with a store of its own.
func Run(t *testing.T, open OpenFunc) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Apps", appTests},
		{"Revisions", revisionTests},
		{"Rollouts", rolloutTests},
		{"Events", eventTests},
		{"Concurrency", concurrencyTests},
		{"Context", contextTests},
		{"AnalysisStates", analysisTests},
		{"Pipeline", pipelineTests},
		{"Installation", installationTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
			}
		})
	}
}

// test is one case of the suite, run against a fresh store.
type test struct {
	name string
	run  func(t *testing.T, s rollout.Store)
}

// ctx returns a context for one test's store calls, with a generous
// deadline so a hung store fails instead of hanging the run.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// must fails t when err is not nil.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
