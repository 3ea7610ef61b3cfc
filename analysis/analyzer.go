package analysis

import (
	"math"
	"time"
)

// Analyzer holds one rollout's sequential state: the e-processes, the
// sliding window of the threshold triggers, the warm-up of each group and
// the consecutive-breach counters. It is a deterministic state machine:
// the same observations give the same verdicts. It is not safe for
// concurrent use.
type Analyzer struct {
	cfg Config

	// Rollback tests. errTest: H0 "canary error rate ≤ (1+ErrorMargin) ×
	// baseline's". slowOver: H0 "canary share above the slow limit ≤
	// 1−SlowQuantile" (its quantile within the margins); slowCmp: H0
	// "canary share above the slow limit ≤ slowShareRatio × baseline's".
	// LatencyTest needs both, so a slowdown that both groups share does
	// not fire it. medOver and medCmp are the same pair for the median
	// (H0: canary share above the median limit ≤ 1/2; ≤ medShareRatio ×
	// baseline's): a shift of the whole distribution that the tail's noise
	// hides at p95 on a busy machine.
	errTest, slowCmp, medCmp ratioTest
	slowOver, medOver        rateTest
	// Promote tests (H0': canary at least PromoteMargin times worse; its
	// error rate at least NegligibleErrorRate; its share above the slow
	// limit at least 1−SlowQuantile).
	errMargin, slowMargin ratioTest
	errFloor, slowUnder   rateTest

	total totals // since New, for the rollback tests' messages
	step  stepState

	slots []slot // observations within cfg.Window, oldest first, from head
	head  int
	last  time.Time
	begun bool

	canaryWarm, baseWarm warmUp
	warming              bool // the last observation was in a warm-up

	memRun, cpuRun, depRun int
	// baseUnheard is when the baseline's instances were first seen with
	// none of them having answered its health check; zero: it has
	// answered, or has no instances.
	baseUnheard time.Time
	// latencyKnown: some observation carried latencies, so promotion
	// needs latency evidence in every step.
	latencyKnown bool
	rollback     *Verdict // sticky once set
}

// totals are cumulative counts of compared intervals.
type totals struct {
	canaryReq, canaryErr, baseReq, baseErr uint64
	// canarySlowReq and baseSlowReq count requests in intervals where the
	// slow tests could run (a threshold and both latencies known).
	canarySlow, baseSlow, canarySlowReq, baseSlowReq uint64
	// canaryMed and baseMed count requests above the median limit, of
	// canaryMedReq and baseMedReq.
	canaryMed, baseMed, canaryMedReq, baseMedReq uint64
}

func (t *totals) add(o totals) {
	t.canaryReq += o.canaryReq
	t.canaryErr += o.canaryErr
	t.baseReq += o.baseReq
	t.baseErr += o.baseErr
	t.canarySlow += o.canarySlow
	t.baseSlow += o.baseSlow
	t.canarySlowReq += o.canarySlowReq
	t.baseSlowReq += o.baseSlowReq
	t.canaryMed += o.canaryMed
	t.baseMed += o.baseMed
	t.canaryMedReq += o.canaryMedReq
	t.baseMedReq += o.baseMedReq
}

// stepState is what Promote needs, counted from the start of a step.
type stepState struct {
	number int
	totals totals
	// sawLatency: the slow test had both revisions' latencies in this step,
	// so LatencyEvidence is required for Promote.
	sawLatency               bool
	errShown, errFloorShown  bool
	slowShown                bool
	errLogE, floorLogE, slow float64 // peak log e-values
	// errFound and slowFound are the evidence reasons, kept from the
	// observation that found the evidence.
	errFound, slowFound *Reason
}

// slot is one observation's contribution to the sliding window.
type slot struct {
	at                time.Time
	canaryReq, errs   uint64
	baseReq, baseErrs uint64
	latReq, latOver   uint64  // canary requests with latency known; those above the LatencyRatio threshold
	baseQ             float64 // baseline LatencyQuantile, ns
	baseSlowQ         float64 // baseline SlowQuantile, ns
	baseMedQ          float64 // baseline median, ns
	baseLatReq        uint64  // baseline requests with latency known
	// latSq is the sum of the squared latReq of the window's slots (set
	// by windowSum only): LatencyRatio's bound (hoeffding).
	latSq float64
}

// New returns an Analyzer for one rollout. Zero fields of cfg take their
// defaults; it returns an error when a field is out of range.
func New(cfg Config) (*Analyzer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	scaled := func(by float64, fs []float64) []float64 {
		out := make([]float64, len(fs))
		for i, f := range fs {
			out[i] = f * by
		}
		return out
	}
	errNull := 1 + orNone(cfg.ErrorMargin)
	q0 := 1 - cfg.SlowQuantile
	return &Analyzer{
		cfg:        cfg,
		errTest:    newRatioTest(errNull, scaled(errNull, rollbackRatios)),
		slowCmp:    newRatioTest(slowShareRatio, scaled(slowShareRatio, rollbackRatios)),
		slowOver:   newRateTest(q0, exceedFractions),
		medCmp:     newRatioTest(medShareRatio, scaled(medShareRatio, rollbackRatios)),
		medOver:    newRateTest(0.5, medianFractions),
		errMargin:  newRatioTest(cfg.PromoteMargin, scaled(cfg.PromoteMargin, promoteFractions)),
		slowMargin: newRatioTest(cfg.PromoteMargin, scaled(cfg.PromoteMargin, promoteFractions)),
		errFloor:   newRateTest(cfg.NegligibleErrorRate, negligibleFractions),
		slowUnder:  newRateTest(q0, negligibleFractions),
	}, nil
}

// slowShareRatio is how many times the baseline's share of requests above
// the slow limit the canary's must be for LatencyTest: a canary whose
// p95 is beyond the margins, but whose excess over the limit the baseline
// shares to within this ratio, is slowed by where it runs (a busy
// machine), not by its version. On the sample workload at load average
// 30, healthy canaries had 7.7% and 7.5% of their requests above the
// limit against the baseline's 5.9% and 3.6% (ratios 1.3 and 2.1); a
// canary 50% slower has nearly all of them there, 10 to 20 times the
// baseline's share.
const slowShareRatio = 3

// medShareRatio is slowShareRatio for the median pair: the canary's share
// of requests above the median limit must be more than 1.5 times the
// baseline's. A canary 50% slower has 3 to 10 times the baseline's share
// there (bench/canary: p50 82.5 vs 59.2 ms at load 36, its p95's excess
// lost in the tail's noise).
const medShareRatio = 1.5

// Config returns the configuration in force, defaults filled in.
func (a *Analyzer) Config() Config { return a.cfg }

// Observe adds one interval and returns the verdict. Once it has returned
// Rollback it keeps returning that verdict.
func (a *Analyzer) Observe(obs Observation) Verdict {
	if a.begun && obs.At.Before(a.last) {
		obs.At = a.last
	}
	if !a.begun || obs.Step != a.step.number {
		a.startStep(obs.Step)
	}
	a.begun, a.last = true, obs.At

	cw := a.canaryWarm.observe(obs.CanaryInstances, obs.Canary.Requests, obs.At, a.cfg)
	bw := a.baseWarm.observe(obs.BaselineInstances, obs.Baseline.Requests, obs.At, a.cfg)
	a.warming = cw || bw
	a.observeCounts(obs)
	a.observeInstances(obs)
	if a.rollback != nil {
		return *a.rollback
	}
	if fired := a.rollbackReasons(obs); len(fired) > 0 {
		a.rollback = &Verdict{Action: Rollback, Reasons: fired}
		return *a.rollback
	}
	return a.progress(obs)
}

func (a *Analyzer) startStep(n int) {
	a.step = stepState{number: n}
	a.errMargin.m.reset()
	a.errFloor.m.reset()
	a.slowUnder.m.reset()
	a.slowMargin.m.reset()
}

// observeCounts feeds the tests and the sliding window. An interval in a
// warm-up counts for ErrorRate only.
func (a *Analyzer) observeCounts(obs Observation) {
	b, c := obs.Baseline, obs.Canary
	eb := b // what the canary's errors are compared with
	if obs.ErrorBaseline != nil {
		eb = *obs.ErrorBaseline
	}
	s := slot{at: obs.At, canaryReq: c.Requests, errs: c.Errors, baseReq: eb.Requests, baseErrs: eb.Errors}
	if a.warming {
		a.push(s)
		return
	}
	d := totals{canaryReq: c.Requests, canaryErr: c.Errors, baseReq: eb.Requests, baseErr: eb.Errors}

	var p, pErr float64 // the canary's share of the compared requests: latency, errors
	if n := b.Requests + c.Requests; n > 0 {
		p = float64(c.Requests) / float64(n)
	}
	if n := eb.Requests + c.Requests; n > 0 {
		pErr = float64(c.Requests) / float64(n)
	}
	a.errTest.observe(c.Errors, eb.Errors, pErr)
	a.errMargin.observe(c.Errors, eb.Errors, pErr)
	a.errFloor.observe(c.Errors, c.Requests)

	if b.Latency != nil || c.Latency != nil {
		a.latencyKnown = true
	}
	if b.Latency != nil && c.Latency != nil {
		if lim := a.slowLimit(); lim > 0 && b.Requests > 0 && c.Requests > 0 {
			a.step.sawLatency = true
			xc, xb := c.Latency.CountAbove(lim), b.Latency.CountAbove(lim)
			n := max(c.Requests, c.Latency.CountAbove(0), xc)
			a.slowOver.observe(xc, n)
			a.slowUnder.observe(xc, n)
			a.slowCmp.observe(xc, xb, p)
			a.slowMargin.observe(xc, xb, p)
			d.canarySlow, d.baseSlow, d.canarySlowReq, d.baseSlowReq = xc, xb, n, max(b.Requests, xb)
		}
		if lim := a.medLimit(); lim > 0 && b.Requests > 0 && c.Requests > 0 {
			xc, xb := c.Latency.CountAbove(lim), b.Latency.CountAbove(lim)
			n := max(c.Requests, c.Latency.CountAbove(0), xc)
			a.medOver.observe(xc, n)
			a.medCmp.observe(xc, xb, p)
			d.canaryMed, d.baseMed, d.canaryMedReq, d.baseMedReq = xc, xb, n, max(b.Requests, xb)
		}
	}
	if b.Latency != nil && b.Requests > 0 {
		// The baseline's quantiles count even in an interval whose canary
		// latency is unknown, so the slow threshold is ready when it is.
		s.baseLatReq = b.Requests
		s.baseSlowQ = float64(b.Latency.Quantile(a.cfg.SlowQuantile))
		s.baseMedQ = float64(b.Latency.Quantile(0.5))
		if q := b.Latency.Quantile(a.cfg.LatencyQuantile); q > 0 && c.Latency != nil && c.Requests > 0 {
			s.baseQ = float64(q)
			s.latReq = c.Requests
			s.latOver = c.Latency.CountAbove(a.ratioLimit(q))
		}
	}
	a.total.add(d)
	a.step.totals.add(d)
	a.push(s)

	pe := math.Log(1 / a.cfg.PromoteAlpha)
	// Latency evidence: the canary's p95 shown within the margins, or its
	// share above the limit shown below PromoteMargin times the
	// baseline's (which a slowdown both share cannot hide).
	a.step.errLogE, a.step.floorLogE, a.step.slow = a.errMargin.m.peak, a.errFloor.m.peak, max(a.slowUnder.m.peak, a.slowMargin.m.peak)
	a.step.errShown = a.step.errShown || a.step.errLogE >= pe
	a.step.errFloorShown = a.step.errFloorShown || a.step.floorLogE >= pe
	a.step.slowShown = a.step.slowShown || a.step.slow >= pe
}

// slowThreshold is the baseline's SlowQuantile the next interval is judged
// against: fixed, or the request-weighted mean of the baseline's
// SlowQuantile over the window so far. It never depends on the interval
// it is applied to, which keeps the slow tests valid. Zero: none yet.
func (a *Analyzer) slowThreshold() time.Duration {
	if a.cfg.SlowThreshold > 0 {
		return a.cfg.SlowThreshold
	}
	var sum, n float64
	for _, s := range a.slots[a.head:] {
		sum += s.baseSlowQ * float64(s.baseLatReq)
		n += float64(s.baseLatReq)
	}
	if n == 0 {
		return 0
	}
	return time.Duration(sum / n)
}

// slowLimit is the latency above which a canary request is slow: the
// baseline's SlowQuantile plus the latency margins. Zero: none yet.
func (a *Analyzer) slowLimit() time.Duration {
	return a.withMargins(a.slowThreshold())
}

// medThreshold is the baseline's median the next interval is judged
// against: the request-weighted mean of the baseline's median over the
// window so far (as slowThreshold, and never fixed). Zero: none yet.
func (a *Analyzer) medThreshold() time.Duration {
	var sum, n float64
	for _, s := range a.slots[a.head:] {
		if s.baseMedQ > 0 {
			sum += s.baseMedQ * float64(s.baseLatReq)
			n += float64(s.baseLatReq)
		}
	}
	if n == 0 {
		return 0
	}
	return time.Duration(sum / n)
}

// medLimit is the median's slowLimit: the baseline's median plus the
// latency margins. Zero: none yet.
func (a *Analyzer) medLimit() time.Duration {
	return a.withMargins(a.medThreshold())
}

// withMargins is the limit c plus the latency margins, relative and
// absolute, whichever is larger. Zero when c is: no limit yet.
func (a *Analyzer) withMargins(c time.Duration) time.Duration {
	if c <= 0 {
		return 0
	}
	return max(time.Duration(float64(c)*(1+orNone(a.cfg.LatencyMargin))), c+orNone(a.cfg.LatencyMarginAbs))
}

// ratioLimit is LatencyRatio's threshold for a baseline quantile q: the
// plan's multiple of it, never less than q plus the absolute margin.
func (a *Analyzer) ratioLimit(q time.Duration) time.Duration {
	return max(time.Duration(a.cfg.MaxLatencyRatio*float64(q)), q+orNone(a.cfg.LatencyMarginAbs))
}

// push appends s to the window and drops the slots older than cfg.Window.
func (a *Analyzer) push(s slot) {
	a.slots = append(a.slots, s)
	from := s.at.Add(-a.cfg.Window)
	for a.head < len(a.slots)-1 && !a.slots[a.head].at.After(from) {
		a.head++
	}
	if a.head > 64 && 2*a.head > len(a.slots) {
		n := copy(a.slots, a.slots[a.head:])
		a.slots = a.slots[:n]
		a.head = 0
	}
}

// windowSum adds up the window's slots.
func (a *Analyzer) windowSum() (w slot) {
	var q float64
	for _, s := range a.slots[a.head:] {
		w.canaryReq += s.canaryReq
		w.errs += s.errs
		w.baseReq += s.baseReq
		w.baseErrs += s.baseErrs
		w.latReq += s.latReq
		w.latOver += s.latOver
		w.latSq += float64(s.latReq) * float64(s.latReq)
		if s.latReq > 0 {
			q += s.baseQ * float64(s.baseLatReq)
			w.baseLatReq += s.baseLatReq
		}
	}
	if w.baseLatReq > 0 {
		w.baseQ = q / float64(w.baseLatReq)
	}
	return w
}

func (a *Analyzer) observeInstances(obs Observation) {
	in := obs.CanaryInstances
	run := func(n *int, breach bool) {
		if breach {
			*n++
		} else {
			*n = 0
		}
	}
	run(&a.memRun, in.MemLimitBytes > 0 && in.MaxRSSBytes > in.MemLimitBytes)
	run(&a.cpuRun, in.CPULimitMillis > 0 && in.MaxCPUMillis > in.CPULimitMillis)
	own, _ := splitDependencies(in.DependencyFailures, obs.BaselineInstances.DependencyFailures)
	a.observeBaselineHealth(obs)
	if len(own) == 0 || !a.waitingForBaseline() {
		run(&a.depRun, len(own) > 0)
	}
}

// BaselineHealthWait is how long the Dependency trigger waits for a
// baseline, none of whose instances has answered its health check yet,
// before it takes the baseline as reporting no failing dependency. Fresh
// baseline instances start with the canary's, and the canary's first
// health answer can come before theirs: compared then, a dependency both
// fail (an environment problem) looked like the canary's own.
const BaselineHealthWait = 30 * time.Second

// observeBaselineHealth notes since when the baseline has had instances
// none of which has answered its health check.
func (a *Analyzer) observeBaselineHealth(obs Observation) {
	b := obs.BaselineInstances
	switch {
	case b.Total == 0 || b.HealthReported > 0:
		a.baseUnheard = time.Time{}
	case a.baseUnheard.IsZero():
		a.baseUnheard = obs.At
	}
}

// waitingForBaseline tells whether, at the last observation, the
// baseline's instances had not answered their health check for less than
// BaselineHealthWait: the Dependency comparison waits for them.
func (a *Analyzer) waitingForBaseline() bool {
	return !a.baseUnheard.IsZero() && a.last.Sub(a.baseUnheard) < BaselineHealthWait
}

func rate(x, n uint64) float64 {
	if n == 0 {
		return 0
	}
	return float64(x) / float64(n)
}
