// Package gate owns the checks a deploy passes before its rollout starts:
// the release window and code freezes, proof that the version succeeded in
// the environment it is promoted from, approvals, a rollback target,
// database migrations, alert rules and pre-rollout hooks. Each gate is a
// plain function of facts gathered elsewhere (the api package reads the
// store, runs hooks and validates migrations) returning a Result with its
// reason; Evaluate runs every gate that applies to an environment and
// returns the Checklist that gantry deploy --dry-run shows and the audit log
// keeps. Nothing here does I/O or reads a clock.
package gate
