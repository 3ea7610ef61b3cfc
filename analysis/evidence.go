package analysis

import "fmt"

// progress decides between Hold, Continue and Promote when no rollback
// trigger fired. Messages speak of "this step": the rollout names its
// steps the way its user sees them.
func (a *Analyzer) progress(obs Observation) Verdict {
	if env := a.environment(obs); env != nil {
		return Verdict{Action: Hold, Reasons: []Reason{*env}}
	}
	if a.warming {
		return Verdict{Action: Hold, Reasons: []Reason{a.warmUpReason()}}
	}
	st := a.step.totals
	if need := uint64(a.cfg.MinRequests); st.canaryReq < need {
		return Verdict{Action: Hold, Reasons: []Reason{{
			Trigger: Traffic, Observed: float64(st.canaryReq), Threshold: float64(need),
			Message: fmt.Sprintf("need ≥ %s compared canary requests in this step, have %s", count(need), count(st.canaryReq)),
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
		reasons = append(reasons, Reason{Trigger: LatencyEvidence, Message: "no latency comparison in this step yet"})
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
	seen := fmt.Sprintf("5xx %s of %s canary requests vs %s of %s baseline in this step",
		pct(rate(st.canaryErr, st.canaryReq)), count(st.canaryReq), pct(rate(st.baseErr, st.baseReq)), count(st.baseReq))
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
	q := quantileName(a.cfg.SlowQuantile)
	seen := fmt.Sprintf("%s of %s canary requests above %s (baseline %s %s plus margin) in this step",
		pct(rate(st.canarySlow, st.canarySlowReq)), count(st.canarySlowReq), ms(a.slowLimit()), q, ms(a.slowThreshold()))
	if a.step.slowShown {
		return Reason{Trigger: LatencyEvidence, Fired: true, Observed: e, Threshold: need,
			Message: fmt.Sprintf("%s; canary %s shown within the margin, or its share above it below %s× the baseline's (e-value %s ≥ %s)", seen, q, num(a.cfg.PromoteMargin), num(e), num(need))}
	}
	return Reason{Trigger: LatencyEvidence, Observed: e, Threshold: need,
		Message: fmt.Sprintf("%s; canary %s not yet shown within the margin, nor its share above it below %s× the baseline's (e-value %s < %s)", seen, q, num(a.cfg.PromoteMargin), num(e), num(need))}
}
