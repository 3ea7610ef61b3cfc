package analysis

import (
	"fmt"
	"math"
	"time"
)

// Analyzer holds one rollout's sequential state: the e-processes, the
// sliding window of the threshold triggers, and the consecutive-breach
// counters. It is a deterministic state machine: the same observations
// give the same verdicts. It is not safe for concurrent use.
type Analyzer struct {
	cfg Config

	// Rollback tests (H0: canary no worse than baseline).
	errTest, slowTest ratioTest
	// Promote tests (H0': canary at least PromoteMargin times worse; or
	// its error rate at least NegligibleErrorRate).
	errMargin, slowMargin ratioTest
	errFloor              rateTest

	total totals // since New, for the rollback tests' messages
	step  stepState

	slots []slot // observations within cfg.Window, oldest first, from head
	head  int
	last  time.Time
	begun bool

	memRun, cpuRun, depRun int
	// latencyKnown: some observation carried latencies, so promotion
	// needs latency evidence in every step.
	latencyKnown bool
	rollback     *Verdict // sticky once set
}

// totals are cumulative counts.
type totals struct {
	canaryReq, canaryErr, baseReq, baseErr uint64
	// canarySlowReq and baseSlowReq count requests in intervals where the
	// slow test could run (a threshold and both latencies known).
	canarySlow, baseSlow, canarySlowReq, baseSlowReq uint64
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
	latReq, latOver   uint64  // canary requests with latency known; those above MaxLatencyRatio × baseline quantile
	baseQ             float64 // baseline LatencyQuantile, ns
	baseSlowQ         float64 // baseline SlowQuantile, ns
	baseLatReq        uint64  // baseline requests with latency known
}

// New returns an Analyzer for one rollout. Zero fields of cfg take their
// defaults; it returns an error when a field is out of range.
func New(cfg Config) (*Analyzer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	margin := make([]float64, len(promoteFractions))
	for i, f := range promoteFractions {
		margin[i] = f * cfg.PromoteMargin
	}
	return &Analyzer{
		cfg:        cfg,
		errTest:    newRatioTest(1, rollbackRatios),
		slowTest:   newRatioTest(1, rollbackRatios),
		errMargin:  newRatioTest(cfg.PromoteMargin, margin),
		slowMargin: newRatioTest(cfg.PromoteMargin, margin),
		errFloor:   newRateTest(cfg.NegligibleErrorRate, negligibleFractions),
	}, nil
}

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

	a.observeCounts(obs)
	a.observeInstances(obs.CanaryInstances)
	if a.rollback != nil {
		return *a.rollback
	}
	if fired := a.rollbackReasons(obs); len(fired) > 0 {
		a.rollback = &Verdict{Action: Rollback, Reasons: fired}
		return *a.rollback
	}
	return a.progress()
}

func (a *Analyzer) startStep(n int) {
	a.step = stepState{number: n}
	a.errMargin.m.reset()
	a.slowMargin.m.reset()
	a.errFloor.m.reset()
}

// observeCounts feeds the tests and the sliding window.
func (a *Analyzer) observeCounts(obs Observation) {
	b, c := obs.Baseline, obs.Canary
	s := slot{at: obs.At, canaryReq: c.Requests, errs: c.Errors, baseReq: b.Requests, baseErrs: b.Errors}
	d := totals{canaryReq: c.Requests, canaryErr: c.Errors, baseReq: b.Requests, baseErr: b.Errors}

	var p float64
	if n := b.Requests + c.Requests; n > 0 {
		p = float64(c.Requests) / float64(n)
	}
	a.errTest.observe(c.Errors, b.Errors, p)
	a.errMargin.observe(c.Errors, b.Errors, p)
	a.errFloor.observe(c.Errors, c.Requests)

	if b.Latency != nil || c.Latency != nil {
		a.latencyKnown = true
	}
	if b.Latency != nil && c.Latency != nil {
		if thr := a.slowThreshold(); thr > 0 && b.Requests > 0 && c.Requests > 0 {
			a.step.sawLatency = true
			xc, xb := c.Latency.CountAbove(thr), b.Latency.CountAbove(thr)
			a.slowTest.observe(xc, xb, p)
			a.slowMargin.observe(xc, xb, p)
			d.canarySlow, d.baseSlow, d.canarySlowReq, d.baseSlowReq = xc, xb, c.Requests, b.Requests
		}
	}
	if b.Latency != nil && b.Requests > 0 {
		// The baseline's quantiles count even in an interval whose canary
		// latency is unknown, so the slow threshold is ready when it is.
		s.baseLatReq = b.Requests
		s.baseSlowQ = float64(b.Latency.Quantile(a.cfg.SlowQuantile))
		if q := b.Latency.Quantile(a.cfg.LatencyQuantile); q > 0 && c.Latency != nil && c.Requests > 0 {
			s.baseQ = float64(q)
			s.latReq = c.Requests
			s.latOver = c.Latency.CountAbove(time.Duration(a.cfg.MaxLatencyRatio * float64(q)))
		}
	}
	a.total.add(d)
	a.step.totals.add(d)
	a.push(s)

	pe := math.Log(1 / a.cfg.PromoteAlpha)
	a.step.errLogE, a.step.floorLogE, a.step.slow = a.errMargin.m.peak, a.errFloor.m.peak, a.slowMargin.m.peak
	a.step.errShown = a.step.errShown || a.step.errLogE >= pe
	a.step.errFloorShown = a.step.errFloorShown || a.step.floorLogE >= pe
	a.step.slowShown = a.step.slowShown || a.step.slow >= pe
}

// slowThreshold is the latency above which a request counts as slow for
// the next interval: fixed, or the request-weighted mean of the baseline's
// SlowQuantile over the window so far. It never depends on the interval
// it is applied to, which keeps the slow test valid. Zero: none yet.
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

func (a *Analyzer) observeInstances(in Instances) {
	run := func(n *int, breach bool) {
		if breach {
			*n++
		} else {
			*n = 0
		}
	}
	run(&a.memRun, in.MemLimitBytes > 0 && in.MaxRSSBytes > in.MemLimitBytes)
	run(&a.cpuRun, in.CPULimitMillis > 0 && in.MaxCPUMillis > in.CPULimitMillis)
	run(&a.depRun, len(in.DependencyFailures) > 0)
}

// progress decides between Hold, Continue and Promote when no rollback
// trigger fired.
func (a *Analyzer) progress() Verdict {
	st := a.step.totals
	if need := uint64(a.cfg.MinRequests); st.canaryReq < need {
		return Verdict{Action: Hold, Reasons: []Reason{{
			Trigger: Traffic, Observed: float64(st.canaryReq), Threshold: float64(need),
			Message: fmt.Sprintf("need ≥ %s canary requests in step %d, have %s", count(need), a.step.number, count(st.canaryReq)),
		}}}
	}
	var reasons []Reason
	all := true
	if a.cfg.Enabled(ErrorEvidence) {
		r := a.errorEvidence()
		if r.Fired && a.step.errFound == nil {
			a.step.errFound = &r
		}
		all = all && r.Fired
		reasons = append(reasons, r)
	}
	if a.cfg.Enabled(LatencyEvidence) && a.latencyKnown && !a.step.sawLatency && st.baseReq > 0 {
		// Latency is measured and the baseline serves, but nothing could be
		// compared in this step yet: not seeing it is no evidence.
		all = false
		reasons = append(reasons, Reason{Trigger: LatencyEvidence,
			Message: fmt.Sprintf("no latency comparison in step %d yet", a.step.number)})
	}
	if a.cfg.Enabled(LatencyEvidence) && a.step.sawLatency {
		r := a.latencyEvidence()
		if r.Fired && a.step.slowFound == nil {
			a.step.slowFound = &r
		}
		all = all && r.Fired
		reasons = append(reasons, r)
	}
	if all {
		return Verdict{Action: Promote, Reasons: reasons}
	}
	return Verdict{Action: Continue, Reasons: reasons}
}

func (a *Analyzer) errorEvidence() Reason {
	if a.step.errFound != nil {
		return *a.step.errFound
	}
	st := a.step.totals
	need := 1 / a.cfg.PromoteAlpha
	seen := fmt.Sprintf("5xx %s of %s canary requests vs %s of %s baseline in step %d",
		pct(rate(st.canaryErr, st.canaryReq)), count(st.canaryReq), pct(rate(st.baseErr, st.baseReq)), count(st.baseReq), a.step.number)
	switch {
	case a.step.errShown:
		e := eValue(a.step.errLogE)
		return Reason{Trigger: ErrorEvidence, Fired: true, Observed: e, Threshold: need,
			Message: fmt.Sprintf("%s; canary error rate shown below %s× the baseline's (e-value %s ≥ %s)", seen, num(a.cfg.PromoteMargin), num(e), num(need))}
	case a.step.errFloorShown:
		e := eValue(a.step.floorLogE)
		return Reason{Trigger: ErrorEvidence, Fired: true, Observed: e, Threshold: need,
			Message: fmt.Sprintf("%s; canary error rate shown below %s (e-value %s ≥ %s)", seen, pct(a.cfg.NegligibleErrorRate), num(e), num(need))}
	}
	e := eValue(max(a.step.errLogE, a.step.floorLogE))
	return Reason{Trigger: ErrorEvidence, Observed: e, Threshold: need,
		Message: fmt.Sprintf("%s; not yet shown below %s× the baseline's or below %s (e-value %s < %s)", seen, num(a.cfg.PromoteMargin), pct(a.cfg.NegligibleErrorRate), num(e), num(need))}
}

func (a *Analyzer) latencyEvidence() Reason {
	if a.step.slowFound != nil {
		return *a.step.slowFound
	}
	st := a.step.totals
	need := 1 / a.cfg.PromoteAlpha
	e := eValue(a.step.slow)
	seen := fmt.Sprintf("slow (> %s) %s of %s canary requests vs %s of %s baseline in step %d",
		ms(a.slowThreshold()), pct(rate(st.canarySlow, st.canarySlowReq)), count(st.canarySlowReq),
		pct(rate(st.baseSlow, st.baseSlowReq)), count(st.baseSlowReq), a.step.number)
	if a.step.slowShown {
		return Reason{Trigger: LatencyEvidence, Fired: true, Observed: e, Threshold: need,
			Message: fmt.Sprintf("%s; canary slow share shown below %s× the baseline's (e-value %s ≥ %s)", seen, num(a.cfg.PromoteMargin), num(e), num(need))}
	}
	return Reason{Trigger: LatencyEvidence, Observed: e, Threshold: need,
		Message: fmt.Sprintf("%s; not yet shown below %s× the baseline's (e-value %s < %s)", seen, num(a.cfg.PromoteMargin), num(e), num(need))}
}

func rate(x, n uint64) float64 {
	if n == 0 {
		return 0
	}
	return float64(x) / float64(n)
}
