package analysis

import "time"

// Standing is every check of the analysis with its current value against
// its threshold, between decisions: what a person watching a canary wants
// to see before a verdict carries the numbers. It is data read from the
// Analyzer; taking it changes nothing.
type Standing struct {
	// Step is the rollout step the promote checks count from.
	Step int `json:"step"`
	// Warming: the last observation fell in a warm-up, so it fed only
	// ErrorRate and the instance checks.
	Warming bool `json:"warming,omitempty"`
	// Checks are the rollback checks in the order of the Trigger constants
	// (LatencyTest once per quantile it tests), then the promote checks
	// (Traffic, ErrorEvidence, LatencyEvidence).
	Checks []Check `json:"checks"`
}

// CheckKind says how a check compares.
type CheckKind string

// Check kinds.
const (
	// Limit compares a measured value with a fixed limit.
	Limit CheckKind = "Limit"
	// Sequential compares a sequential test's e-value with its level (the
	// rollback level, such as 2/α, or 1/PromoteAlpha for promote evidence).
	Sequential CheckKind = "Sequential"
)

// Unit is what a check's Value and Threshold count.
type Unit string

// Units.
const (
	Share       Unit = "share"       // 0.079 is 7.9%
	EValue      Unit = "e-value"     // a sequential test's evidence
	Bytes       Unit = "bytes"       // resident memory
	Millicores  Unit = "millicores"  // CPU, thousandths of a core
	Requests    Unit = "requests"    // a request count
	Occurrences Unit = "occurrences" // failing dependencies
)

// Counts are what one group contributed to a check.
type Counts struct {
	// Total counts what was compared: requests, or instances for
	// UnhealthyInstances.
	Total uint64 `json:"total"`
	// Events counts those that weigh against the group: 5xx answers, slow
	// requests, unhealthy instances.
	Events uint64 `json:"events"`
}

// Scope is the span a check's counts cover.
type Scope string

// Scopes.
const (
	ScopeNow     Scope = "now"     // the last observation's instances
	ScopeWindow  Scope = "window"  // Config.Window back from the last observation
	ScopeRollout Scope = "rollout" // since the analysis began (rollback tests)
	ScopeStep    Scope = "step"    // since the current step began (promote checks)
)

// Check is one check's standing.
type Check struct {
	Trigger Trigger   `json:"trigger"`
	Kind    CheckKind `json:"kind"`
	// Promote: the check must be met to promote (Traffic and the
	// evidence); otherwise it rolls back when met.
	Promote bool `json:"promote,omitempty"`
	// Disabled: turned off in the spec (spec.analysis.disabled); it is
	// shown but never decides.
	Disabled bool `json:"disabled,omitempty"`
	// Value and Threshold are compared in Unit. For a sequential test Value
	// is the largest e-value seen (the one compared: a test may stop the
	// first time its e-value crosses the level) and EValue the current one.
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	Unit      Unit    `json:"unit"`
	// Met: Value has reached the threshold: a rollback check fired, or
	// the promote evidence is found.
	Met bool `json:"met"`
	// Judged: the check had enough to judge (a Limit on the window needs
	// MinErrorRequests or MinLatencyRequests; a resource a limit); false
	// means Value says little yet.
	Judged bool `json:"judged"`
	// EValue is a sequential test's current e-value; 0 for a Limit.
	EValue float64 `json:"eValue,omitempty"`
	// Canary and Baseline are the counts compared; nil where the check
	// compares no counts (memory, CPU, dependencies).
	Canary   *Counts `json:"canary,omitempty"`
	Baseline *Counts `json:"baseline,omitempty"`
	Scope    Scope   `json:"scope"`
	// Quantile is, for LatencyTest (one check per quantile it tests), the
	// latency quantile the check compares: 0.95 is p95, 0.5 the median.
	Quantile float64 `json:"quantile,omitempty"`
	// LatencyLimitMs is, for the latency checks, the duration in
	// milliseconds above which a canary request counts as slow.
	LatencyLimitMs float64 `json:"latencyLimitMs,omitempty"`
	// Runs is, for Memory, CPU and Dependency, how many consecutive
	// observations were beyond the limit; they fire at RunsNeeded.
	Runs       int `json:"runs,omitempty"`
	RunsNeeded int `json:"runsNeeded,omitempty"`
}

// Standing returns every check's standing after last, the observation the
// Analyzer was last given (its instances are not kept). It does not change
// the Analyzer.
func (a *Analyzer) Standing(last Observation) Standing {
	s := Standing{Step: a.step.number, Warming: a.warming}
	add := func(c Check) {
		c.Disabled = !a.cfg.Enabled(c.Trigger)
		s.Checks = append(s.Checks, c)
	}
	in := last.CanaryInstances
	w := a.windowSum()

	unhealthy := rate(uint64(max(in.Unhealthy, 0)), uint64(max(in.Total, 0)))
	add(Check{Trigger: UnhealthyInstances, Kind: Limit, Value: unhealthy, Threshold: a.cfg.MaxUnhealthyShare, Unit: Share,
		Met: unhealthy > a.cfg.MaxUnhealthyShare, Judged: in.Total > 0, Scope: ScopeNow,
		Canary: &Counts{Total: uint64(max(in.Total, 0)), Events: uint64(max(in.Unhealthy, 0))}})

	errRate := rate(w.errs, w.canaryReq)
	add(Check{Trigger: ErrorRate, Kind: Limit, Value: errRate, Threshold: a.cfg.MaxErrorRate, Unit: Share,
		Met: a.errorRate(w) != nil, Judged: w.canaryReq >= uint64(a.cfg.MinErrorRequests), Scope: ScopeWindow,
		Canary: &Counts{Total: w.canaryReq, Events: w.errs}, Baseline: &Counts{Total: w.baseReq, Events: w.baseErrs}})

	ratio := Check{Trigger: LatencyRatio, Kind: Limit, Value: rate(w.latOver, w.latReq), Threshold: 1 - a.cfg.LatencyQuantile, Unit: Share,
		Met: a.latencyRatio(w) != nil, Judged: w.latReq > 0 && w.latReq >= uint64(a.cfg.MinLatencyRequests), Scope: ScopeWindow,
		Canary: &Counts{Total: w.latReq, Events: w.latOver}}
	if w.baseQ > 0 {
		ratio.LatencyLimitMs = ms64(a.ratioLimit(time.Duration(w.baseQ)))
	}
	add(ratio)

	add(Check{Trigger: Memory, Kind: Limit, Value: float64(in.MaxRSSBytes), Threshold: float64(in.MemLimitBytes), Unit: Bytes,
		Met: a.memRun >= a.cfg.ResourceFor, Judged: in.MemLimitBytes > 0, Scope: ScopeNow, Runs: a.memRun, RunsNeeded: a.cfg.ResourceFor})
	add(Check{Trigger: CPU, Kind: Limit, Value: float64(in.MaxCPUMillis), Threshold: float64(in.CPULimitMillis), Unit: Millicores,
		Met: a.cpuRun >= a.cfg.ResourceFor, Judged: in.CPULimitMillis > 0, Scope: ScopeNow, Runs: a.cpuRun, RunsNeeded: a.cfg.ResourceFor})
	own, _ := splitDependencies(in.DependencyFailures, last.BaselineInstances.DependencyFailures)
	add(Check{Trigger: Dependency, Kind: Limit, Value: float64(len(own)), Unit: Occurrences,
		Met: a.depRun >= a.cfg.DependencyFor, Judged: len(own) == 0 || !a.waitingForBaseline(), Scope: ScopeNow, Runs: a.depRun, RunsNeeded: a.cfg.DependencyFor})

	t := a.total
	add(Check{Trigger: ErrorTest, Kind: Sequential, Value: eValue(a.errTest.m.peak), EValue: eValue(a.errTest.m.logE()),
		Threshold: eValue(a.rollbackLevel()), Unit: EValue, Met: a.errorTest() != nil, Judged: t.canaryReq > 0, Scope: ScopeRollout,
		Canary: &Counts{Total: t.canaryReq, Events: t.canaryErr}, Baseline: &Counts{Total: t.baseReq, Events: t.baseErr}})
	// LatencyTest: one check per quantile it tests; it fires when either
	// quantile's pair of tests reaches the level.
	fired := a.latencyTest() != nil
	for _, lt := range []struct {
		q            float64
		over, cmp    *mixture
		canary, base Counts
		limit        time.Duration
	}{
		{a.cfg.SlowQuantile, &a.slowOver.m, &a.slowCmp.m, Counts{t.canarySlowReq, t.canarySlow}, Counts{t.baseSlowReq, t.baseSlow}, a.slowLimit()},
		{0.5, &a.medOver.m, &a.medCmp.m, Counts{t.canaryMedReq, t.canaryMed}, Counts{t.baseMedReq, t.baseMed}, a.medLimit()},
	} {
		peak := min(lt.over.peak, lt.cmp.peak)
		c := Check{Trigger: LatencyTest, Kind: Sequential, Quantile: lt.q, Value: eValue(peak), EValue: eValue(min(lt.over.logE(), lt.cmp.logE())),
			Threshold: eValue(a.latencyLevel()), Unit: EValue, Met: fired && peak >= a.latencyLevel(), Judged: lt.canary.Total > 0, Scope: ScopeRollout,
			Canary: &lt.canary, Baseline: &lt.base}
		if lt.limit > 0 {
			c.LatencyLimitMs = ms64(lt.limit)
		}
		add(c)
	}

	st, need := a.step.totals, 1/a.cfg.PromoteAlpha
	add(Check{Trigger: Traffic, Kind: Limit, Promote: true, Value: float64(st.canaryReq), Threshold: float64(a.cfg.MinRequests), Unit: Requests,
		Met: st.canaryReq >= uint64(a.cfg.MinRequests), Judged: true, Scope: ScopeStep})
	add(Check{Trigger: ErrorEvidence, Kind: Sequential, Promote: true,
		Value: eValue(max(a.step.errLogE, a.step.floorLogE)), EValue: eValue(max(a.errMargin.m.logE(), a.errFloor.m.logE())),
		Threshold: need, Unit: EValue, Met: a.step.errShown || a.step.errFloorShown, Judged: st.canaryReq > 0, Scope: ScopeStep,
		Canary: &Counts{Total: st.canaryReq, Events: st.canaryErr}, Baseline: &Counts{Total: st.baseReq, Events: st.baseErr}})
	le := Check{Trigger: LatencyEvidence, Kind: Sequential, Promote: true,
		Value: eValue(a.step.slow), EValue: eValue(max(a.slowUnder.m.logE(), a.slowMargin.m.logE())),
		Threshold: need, Unit: EValue, Met: a.step.slowShown, Judged: a.step.sawLatency, Scope: ScopeStep,
		Canary: &Counts{Total: st.canarySlowReq, Events: st.canarySlow}, Baseline: &Counts{Total: st.baseSlowReq, Events: st.baseSlow}}
	if lim := a.slowLimit(); lim > 0 {
		le.LatencyLimitMs = ms64(lim)
	}
	add(le)
	return s
}

// ms64 is d in milliseconds.
func ms64(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
