// Package pipeline owns promotion through an app's environments: the gate
// checks of one deploy gathered into facts (Gatekeeper), and pipeline runs
// that walk the environments in order (approval, deploy, smoke, perf test,
// promote) for one version (Run, Plan, Runner). The facts a gate decides on
// are read through small interfaces (Store, rollout.Store, HookRunner); the
// decisions themselves are the gate package's plain functions. Runs and
// approvals are stored (Store), so a restarted server resumes a run where
// it was. It imports no backend, router or HTTP framework.
package pipeline
