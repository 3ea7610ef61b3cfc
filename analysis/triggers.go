package analysis

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// rollbackReasons returns the rollback triggers that fire after obs, in
// the order of the Trigger constants.
func (a *Analyzer) rollbackReasons(obs Observation) []Reason {
	var out []Reason
	add := func(t Trigger, r *Reason) {
		if r != nil && a.cfg.Enabled(t) {
			r.Trigger, r.Fired = t, true
			out = append(out, *r)
		}
	}
	add(UnhealthyInstances, a.unhealthy(obs.CanaryInstances))
	w := a.windowSum()
	add(ErrorRate, a.errorRate(w))
	add(LatencyRatio, a.latencyRatio(w))
	add(Memory, a.memory(obs.CanaryInstances))
	add(CPU, a.cpu(obs.CanaryInstances))
	add(Dependency, a.dependency(obs))
	add(ErrorTest, a.errorTest())
	add(LatencyTest, a.latencyTest())
	return out
}

func (a *Analyzer) unhealthy(in Instances) *Reason {
	if in.Total <= 0 {
		return nil
	}
	share := float64(in.Unhealthy) / float64(in.Total)
	if share <= a.cfg.MaxUnhealthyShare {
		return nil
	}
	return &Reason{Observed: share, Threshold: a.cfg.MaxUnhealthyShare,
		Message: fmt.Sprintf("%d of %d canary instances unhealthy (%s > %s)", in.Unhealthy, in.Total, pct(share), pct(a.cfg.MaxUnhealthyShare))}
}

// errorRate fires when the canary's error rate over the window is above
// MaxErrorRate, unless the baseline's is too: then it is an environment
// problem (see environment), and ErrorTest still compares the two.
func (a *Analyzer) errorRate(w slot) *Reason {
	if w.canaryReq < uint64(a.cfg.MinErrorRequests) {
		return nil
	}
	r := rate(w.errs, w.canaryReq)
	if r <= a.cfg.MaxErrorRate || a.baselineFailing(w) {
		return nil
	}
	return &Reason{Observed: r, Threshold: a.cfg.MaxErrorRate,
		Message: fmt.Sprintf("5xx %s of %s canary requests in the last %s (> %s); baseline %s of %s",
			pct(r), count(w.canaryReq), a.cfg.Window, pct(a.cfg.MaxErrorRate), pct(rate(w.baseErrs, w.baseReq)), count(w.baseReq))}
}

// latencyRatio fires when more than 1-LatencyQuantile of the canary's
// requests took longer than MaxLatencyRatio times the baseline's
// LatencyQuantile of the same interval (and than that quantile plus
// LatencyMarginAbs): exactly when the canary's quantile is above that
// limit. Observed is that share.
func (a *Analyzer) latencyRatio(w slot) *Reason {
	if w.latReq == 0 || w.latReq < uint64(a.cfg.MinLatencyRequests) {
		return nil
	}
	share := rate(w.latOver, w.latReq)
	limit := 1 - a.cfg.LatencyQuantile
	if share-hoeffding(w.latReq, w.latSq) <= limit {
		return nil
	}
	q := quantileName(a.cfg.LatencyQuantile)
	base := time.Duration(w.baseQ)
	return &Reason{Observed: share, Threshold: limit,
		Message: fmt.Sprintf("latency %s above %s× baseline: %s of %s canary requests in the last %s took over %s (%s× the baseline %s %s, at least %s more), more than %s beyond doubt",
			q, num(a.cfg.MaxLatencyRatio), pct(share), count(w.latReq), a.cfg.Window, ms(a.ratioLimit(base)), num(a.cfg.MaxLatencyRatio), q, ms(base), ms(orNone(a.cfg.LatencyMarginAbs)), pct(limit))}
}

// ratioDoubt is the chance, per observation, that LatencyRatio fires for a
// canary whose share above the limit is in fact within it: over an hour of
// one observation a second, at most 3600 × 10⁻⁴ = 0.36%.
const ratioDoubt = 1e-4

// hoeffding is how far the share of n requests above the limit may lie
// above the true one with probability ratioDoubt (Hoeffding's inequality),
// where sq is the sum of the squared request counts of the observations
// the n requests came in. An observation, not a request, is the unit of
// evidence: the requests of one interval are not independent, since a
// pause of the machine or of the process (a busy core, a collection)
// slows all of them together. Each observation's count above the limit
// is then one bounded draw in [0, its requests], and the bound is
// √(ln(1/ratioDoubt)·Σnᵢ²/2)/n: with one request per observation it is the
// per-request bound, with k equal observations that of k draws. Counted
// per request instead, 128 requests of a fresh, healthy canary in three
// seconds of a stalled process rolled it back on a busy machine; now a
// canary needs at least six observations wholly above the limit, and a
// minute of them 33% above it.
func hoeffding(n uint64, sq float64) float64 {
	if n == 0 {
		return math.Inf(1)
	}
	return math.Sqrt(math.Log(1/ratioDoubt)*sq/2) / float64(n)
}

func (a *Analyzer) memory(in Instances) *Reason {
	if a.memRun < a.cfg.ResourceFor {
		return nil
	}
	return &Reason{Observed: float64(in.MaxRSSBytes), Threshold: float64(in.MemLimitBytes),
		Message: fmt.Sprintf("canary memory %s above its limit %s for %d consecutive observations", bytesIEC(in.MaxRSSBytes), bytesIEC(in.MemLimitBytes), a.memRun)}
}

func (a *Analyzer) cpu(in Instances) *Reason {
	if a.cpuRun < a.cfg.ResourceFor {
		return nil
	}
	return &Reason{Observed: float64(in.MaxCPUMillis), Threshold: float64(in.CPULimitMillis),
		Message: fmt.Sprintf("canary CPU %dm above its limit %dm for %d consecutive observations", in.MaxCPUMillis, in.CPULimitMillis, a.cpuRun)}
}

// dependency fires for dependencies the canary reports failing and the
// baseline does not; those both report are an environment problem.
func (a *Analyzer) dependency(obs Observation) *Reason {
	if a.depRun < a.cfg.DependencyFor {
		return nil
	}
	own, _ := splitDependencies(obs.CanaryInstances.DependencyFailures, obs.BaselineInstances.DependencyFailures)
	return &Reason{Observed: float64(len(own)), Threshold: 0,
		Message: fmt.Sprintf("canary health check reports failing dependencies the baseline does not: %s", strings.Join(own, ", "))}
}

func (a *Analyzer) rollbackLevel() float64 { return math.Log(2 / a.cfg.Alpha) }

func (a *Analyzer) errorTest() *Reason {
	if a.errTest.m.peak < a.rollbackLevel() {
		return nil
	}
	t := a.total
	e, need := eValue(a.errTest.m.peak), 2/a.cfg.Alpha
	return &Reason{Observed: e, Threshold: need,
		Message: fmt.Sprintf("5xx %s of %s canary requests vs %s of %s baseline: more than %s× the baseline's rate; e-value %s ≥ %s",
			pct(rate(t.canaryErr, t.canaryReq)), count(t.canaryReq), pct(rate(t.baseErr, t.baseReq)), count(t.baseReq),
			num(1+orNone(a.cfg.ErrorMargin)), num(e), num(need))}
}

// latencyTest fires when both tests of one quantile reached the latency
// level: for p95 (SlowQuantile) or for the median, the canary's quantile
// is beyond the margins and the baseline does not share the slowdown.
// Observed is the smaller e-value of the pair that fired.
func (a *Analyzer) latencyTest() *Reason {
	level := a.latencyLevel()
	t := a.total
	need := math.Exp(level)
	over, cmp := a.slowOver.m.peak, a.slowCmp.m.peak
	if min(over, cmp) >= level {
		e := eValue(min(over, cmp))
		q := quantileName(a.cfg.SlowQuantile)
		return &Reason{Observed: e, Threshold: need,
			Message: fmt.Sprintf("canary %s more than %s and %s slower than the baseline's: %s of %s canary requests vs %s of %s baseline above %s (baseline %s %s); e-values %s, %s ≥ %s",
				q, pct(orNone(a.cfg.LatencyMargin)), ms(orNone(a.cfg.LatencyMarginAbs)),
				pct(rate(t.canarySlow, t.canarySlowReq)), count(t.canarySlowReq), pct(rate(t.baseSlow, t.baseSlowReq)), count(t.baseSlowReq),
				ms(a.slowLimit()), q, ms(a.slowThreshold()), num(eValue(over)), num(eValue(cmp)), num(need))}
	}
	over, cmp = a.medOver.m.peak, a.medCmp.m.peak
	if min(over, cmp) >= level {
		e := eValue(min(over, cmp))
		return &Reason{Observed: e, Threshold: need,
			Message: fmt.Sprintf("canary p50 more than %s and %s slower than the baseline's: %s of %s canary requests vs %s of %s baseline above %s (baseline p50 %s); e-values %s, %s ≥ %s",
				pct(orNone(a.cfg.LatencyMargin)), ms(orNone(a.cfg.LatencyMarginAbs)),
				pct(rate(t.canaryMed, t.canaryMedReq)), count(t.canaryMedReq), pct(rate(t.baseMed, t.baseMedReq)), count(t.baseMedReq),
				ms(a.medLimit()), ms(a.medThreshold()), num(eValue(over)), num(eValue(cmp)), num(need))}
	}
	return nil
}

// latencyLevel is the log e-value each of LatencyTest's two quantiles
// must reach: log(4/Alpha), so that p95 and the median together keep the
// latency test's share Alpha/2 of the false-rollback budget.
func (a *Analyzer) latencyLevel() float64 { return math.Log(4 / a.cfg.Alpha) }

// baselineFailing: the baseline's own error rate over the window is above
// MaxErrorRate, on enough requests to say so.
func (a *Analyzer) baselineFailing(w slot) bool {
	return w.baseReq >= uint64(a.cfg.MinErrorRequests) && rate(w.baseErrs, w.baseReq) > a.cfg.MaxErrorRate
}

// environment explains a failure both groups show: a dependency both
// report failing, or both error rates above MaxErrorRate. Nil: none.
func (a *Analyzer) environment(obs Observation) *Reason {
	_, shared := splitDependencies(obs.CanaryInstances.DependencyFailures, obs.BaselineInstances.DependencyFailures)
	w := a.windowSum()
	var parts []string
	if len(shared) > 0 {
		parts = append(parts, "failing dependencies reported by the canary and the baseline alike: "+strings.Join(shared, ", "))
	}
	if a.baselineFailing(w) && rate(w.errs, w.canaryReq) > a.cfg.MaxErrorRate && w.canaryReq >= uint64(a.cfg.MinErrorRequests) {
		parts = append(parts, fmt.Sprintf("5xx %s of canary and %s of baseline requests in the last %s, both above %s",
			pct(rate(w.errs, w.canaryReq)), pct(rate(w.baseErrs, w.baseReq)), a.cfg.Window, pct(a.cfg.MaxErrorRate)))
	}
	if len(parts) == 0 {
		return nil
	}
	return &Reason{Trigger: Environment, Observed: float64(len(shared)),
		Message: "an environment problem, not the canary's: " + strings.Join(parts, "; ") + "; no promotion until it clears"}
}

// splitDependencies splits the canary's failing dependencies into those
// the baseline does not report (own) and those it reports too (shared),
// matching by name (the part before " (").
func splitDependencies(canary, baseline []string) (own, shared []string) {
	if len(canary) == 0 || len(baseline) == 0 {
		return canary, nil
	}
	name := func(s string) string { n, _, _ := strings.Cut(s, " ("); return n }
	base := map[string]bool{}
	for _, b := range baseline {
		base[name(b)] = true
	}
	for _, c := range canary {
		if base[name(c)] {
			shared = append(shared, c)
		} else {
			own = append(own, c)
		}
	}
	return own, shared
}

// quantileName writes 0.95 as "p95" and 0.999 as "p99.9".
func quantileName(q float64) string {
	return "p" + strconv.FormatFloat(math.Round(q*1e4)/100, 'f', -1, 64)
}
