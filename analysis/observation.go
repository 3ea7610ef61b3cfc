package analysis

import "time"

// Latencies is the latency distribution of one revision's requests in one
// interval. Buckets implements it over any fixed-bucket histogram's counts
// (such as a proxy.Histogram's). Quantile may interpolate, but CountAbove
// must decide for each request on its own, by its latency or its bucket
// (as Buckets does), never by interpolating and rounding within a bucket:
// the latency test is valid only if the same rule applies to each request
// of both revisions, whatever their numbers.
type Latencies interface {
	// Quantile returns the q-quantile (0 ≤ q ≤ 1); 0 when empty.
	Quantile(q float64) time.Duration
	// CountAbove returns how many requests took longer than d.
	CountAbove(d time.Duration) uint64
}

// Window is what one revision served in one interval (typically one
// second): counts since the previous observation, not since the start.
type Window struct {
	// Requests counts finished requests, excluding those whose client went
	// away (499): they say nothing about the revision.
	Requests uint64
	// Errors counts the requests answered with a 5xx status.
	Errors uint64
	// Latency is the distribution of the same requests' durations; nil:
	// none known, and the latency checks skip this interval. It is read
	// only during Observe.
	Latency Latencies
}

// Instances is the state of one group's instances (the canary's or the
// baseline's) at one observation. A zero limit means no limit is set, and
// its trigger cannot fire.
type Instances struct {
	// Total counts the canary's instances that should be serving;
	// Unhealthy those of them failing readiness or liveness, or restarting.
	Total, Unhealthy int
	// MaxRSSBytes is the largest resident memory of any canary instance;
	// MemLimitBytes the workload's memory limit per instance.
	MaxRSSBytes, MemLimitBytes int64
	// MaxCPUMillis is the highest CPU use of any canary instance in
	// thousandths of a core; CPULimitMillis the limit per instance.
	MaxCPUMillis, CPULimitMillis int64
	// DependencyFailures names the dependencies that an instance's health
	// check reports failing, such as "database", each optionally followed
	// by " (" and what the check said. Empty: none.
	DependencyFailures []string
	// HealthReported counts the instances whose health check has answered
	// with a body since they started. A baseline with instances of which
	// none has answered yet reports no failing dependency only because it
	// has not been asked: the Dependency trigger waits for it, up to
	// BaselineHealthWait.
	HealthReported int
	// Ready counts the instances that take traffic; NewestReady is when
	// the most recent of them became ready. Zero NewestReady: unknown, and
	// the group is never warming up (see Config.WarmUp).
	Ready       int
	NewestReady time.Time
}

// Observation is one interval of traffic plus the canary's instance state.
type Observation struct {
	// At is when the interval ended. It must not decrease between
	// observations; a decreasing At is taken as equal to the previous one.
	At time.Time
	// Step is the rollout's step. When it changes, the evidence needed for
	// Promote and the MinRequests count start anew; the rollback tests go on.
	Step int
	// Baseline and Canary are each revision's traffic in the interval. The
	// canary's traffic share is taken from these request counts, not from
	// configured weights.
	Baseline, Canary Window
	// ErrorBaseline, when set, is what the error checks (ErrorTest,
	// ErrorEvidence, the error window) compare the canary's errors with
	// instead of Baseline: every instance of the stable revision, when
	// Baseline is a like-for-like baseline of the canary's size. An error
	// rate does not depend on an instance's traffic or age the way its
	// latency does, and the whole stable revision gives the error tests
	// many times the evidence. Only Requests and Errors are read.
	ErrorBaseline *Window
	// CanaryInstances is the canary's instance state at At.
	CanaryInstances Instances
	// BaselineInstances is the baseline's: a dependency both groups report
	// failing is an environment problem, not the canary's, and fresh
	// baseline instances warm up like the canary's. Only Total,
	// DependencyFailures, HealthReported, Ready and NewestReady are read.
	BaselineInstances Instances
}
