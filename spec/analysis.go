package spec

// AnalysisChecks names the checks AnalysisSpec.Disabled may turn off, in
// the order the deployment plan lists them: the rollback triggers
// (UnhealthyInstances, ErrorRate, LatencyRatio, Memory, CPU, Dependency),
// the sequential tests against the baseline (ErrorTest, LatencyTest) and
// the evidence a step needs before it is promoted (ErrorEvidence,
// LatencyEvidence).
var AnalysisChecks = []string{
	"UnhealthyInstances", "ErrorRate", "LatencyRatio", "Memory", "CPU", "Dependency",
	"ErrorTest", "LatencyTest", "ErrorEvidence", "LatencyEvidence",
}

// AnalysisSpec.Baseline's values.
const (
	// BaselineLikeForLike: a canary is compared with fresh instances of the
	// stable revision, as many as the canary's, started with it and given
	// the same weight (the default).
	BaselineLikeForLike = "likeForLike"
	// BaselinePrimary: a canary is compared with the stable revision's
	// serving instances; no extra instances run.
	BaselinePrimary = "primary"
)

// AnalysisBaselines lists AnalysisSpec.Baseline's values.
var AnalysisBaselines = []string{BaselineLikeForLike, BaselinePrimary}

// LikeForLike reports whether a canary with this analysis runs a
// like-for-like baseline: unless Baseline says BaselinePrimary.
func (a *AnalysisSpec) LikeForLike() bool { return a == nil || a.Baseline != BaselinePrimary }

// Defaults and bounds of AnalysisSpec's fields.
const (
	// DefaultMaxUnhealthyPercent is analysis.maxUnhealthyPercent when unset.
	DefaultMaxUnhealthyPercent = 10
	// DefaultMaxErrorPercent is analysis.maxErrorPercent when unset.
	DefaultMaxErrorPercent = 5.0
	// DefaultMaxLatencyRatio is analysis.maxLatencyRatio when unset.
	DefaultMaxLatencyRatio = 2.0
	// DefaultAlpha is analysis.alpha when unset.
	DefaultAlpha = 0.01
	// MaxAlpha is the largest analysis.alpha gantry accepts.
	MaxAlpha = 0.5
	// DefaultMinRequests is analysis.minRequests when unset.
	DefaultMinRequests = 500
	// MaxMinRequests is the largest analysis.minRequests gantry accepts.
	MaxMinRequests = 10_000_000
	// DefaultErrorMarginPercent is analysis.errorMarginPercent when unset.
	DefaultErrorMarginPercent = 25.0
	// DefaultLatencyMarginPercent is analysis.latencyMarginPercent when unset.
	DefaultLatencyMarginPercent = 10.0
	// DefaultLatencyMarginMs is analysis.latencyMarginMs when unset.
	DefaultLatencyMarginMs = 5.0
	// MaxMarginPercent bounds errorMarginPercent and latencyMarginPercent;
	// MaxLatencyMarginMs bounds latencyMarginMs.
	MaxMarginPercent   = 1000.0
	MaxLatencyMarginMs = 60_000.0
	// DefaultWarmUpRequests is analysis.warmUpRequests when unset;
	// MaxWarmUpRequests the largest accepted.
	DefaultWarmUpRequests = 100
	MaxWarmUpRequests     = 1_000_000
	// DefaultWarmUpSeconds is analysis.warmUpSeconds when unset;
	// MaxWarmUpSeconds the largest accepted.
	DefaultWarmUpSeconds = 10.0
	MaxWarmUpSeconds     = 3600.0
)

// Defaults and bounds of SmokeTest's fields.
const (
	// DefaultSmokeTestMethod is a smoke test's HTTP method when unset.
	DefaultSmokeTestMethod = "GET"
	// DefaultSmokeTestStatus is the status a smoke test expects when unset.
	DefaultSmokeTestStatus = 200
	// DefaultSmokeTestTimeoutSeconds bounds a smoke test whose timeoutSeconds is unset (0).
	DefaultSmokeTestTimeoutSeconds = 10
	// MaxSmokeTestTimeoutSeconds is the largest timeoutSeconds gantry accepts.
	MaxSmokeTestTimeoutSeconds = 3600
)

// SmokeTestMethods are the HTTP methods a smoke test may send.
var SmokeTestMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
