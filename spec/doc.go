// Package spec owns gantry.yaml: the App document's types, strict decoding
// with file:line:column positions, defaults, validation, per-environment
// resolution and the placeholder templates of a workload.
//
// Parse reads one document and reports every problem it finds at once as an
// ErrorList; each FieldError names the file, line, column and field path
// (for example spec.strategy.rollingUpdate.maxSurge) and says how to fix it.
// App.Resolve then returns the AppSpec of one environment with its overrides
// applied and every default set; a Revision stores that resolved spec.
//
// Defaults (see defaults.go): replicas 3, maxSurge 1, maxUnavailable 0,
// progressDeadlineSeconds 600, revisionHistoryLimit 10,
// terminationGracePeriodSeconds 30, workload.port 8080, probes period 10s,
// timeout 1s, success 1, failure 3, strategy RollingUpdate, canary steps
// 5% / 30s / 25% / 30s / 50% / 30s / 100%, blue-green autoPromotion true and
// scaleDownDelaySeconds 30.
package spec
