// Package querycheck owns user-defined PromQL checks, the Argo
// AnalysisTemplate kind: a query templated with the app, environment and
// new revision, measured every interval, and a success condition on its
// value ("result < 0.05"). Judge decides from the measurements whether the
// check fails the rollout, and why, with the values; it reads no clock,
// runs no query and imports no backend. Conditions are expr-lang/expr
// expressions over the float64 result.
package querycheck
