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
	add(Dependency, a.dependency(obs.CanaryInstances))
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

func (a *Analyzer) errorRate(w slot) *Reason {
	if w.canaryReq < uint64(a.cfg.MinErrorRequests) {
		return nil
	}
	r := rate(w.errs, w.canaryReq)
	if r <= a.cfg.MaxErrorRate {
		return nil
	}
	return &Reason{Observed: r, Threshold: a.cfg.MaxErrorRate,
		Message: fmt.Sprintf("5xx %s of %s canary requests in the last %s (> %s); baseline %s of %s",
			pct(r), count(w.canaryReq), a.cfg.Window, pct(a.cfg.MaxErrorRate), pct(rate(w.baseErrs, w.baseReq)), count(w.baseReq))}
}

// latencyRatio fires when more than 1-LatencyQuantile of the canary's
// requests took longer than MaxLatencyRatio times the baseline's
// LatencyQuantile of the same interval: exactly when the canary's quantile
// is above that multiple of the baseline's. Observed is that share.
func (a *Analyzer) latencyRatio(w slot) *Reason {
	if w.latReq == 0 || w.latReq < uint64(a.cfg.MinLatencyRequests) {
		return nil
	}
	share := rate(w.latOver, w.latReq)
	limit := 1 - a.cfg.LatencyQuantile
	if share <= limit {
		return nil
	}
	q := quantileName(a.cfg.LatencyQuantile)
	base := time.Duration(w.baseQ)
	return &Reason{Observed: share, Threshold: limit,
		Message: fmt.Sprintf("latency %s above %s× baseline: %s of %s canary requests in the last %s took over %s× the baseline %s (%s× %s), more than %s",
			q, num(a.cfg.MaxLatencyRatio), pct(share), count(w.latReq), a.cfg.Window, num(a.cfg.MaxLatencyRatio), q, num(a.cfg.MaxLatencyRatio), ms(base), pct(limit))}
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

func (a *Analyzer) dependency(in Instances) *Reason {
	if a.depRun < a.cfg.DependencyFor {
		return nil
	}
	return &Reason{Observed: float64(len(in.DependencyFailures)), Threshold: 0,
		Message: fmt.Sprintf("canary health check reports failing dependencies: %s", strings.Join(in.DependencyFailures, ", "))}
}

func (a *Analyzer) rollbackLevel() float64 { return math.Log(2 / a.cfg.Alpha) }

func (a *Analyzer) errorTest() *Reason {
	if a.errTest.m.peak < a.rollbackLevel() {
		return nil
	}
	t := a.total
	e, need := eValue(a.errTest.m.peak), 2/a.cfg.Alpha
	return &Reason{Observed: e, Threshold: need,
		Message: fmt.Sprintf("5xx %s of %s canary requests vs %s of %s baseline; e-value %s ≥ %s",
			pct(rate(t.canaryErr, t.canaryReq)), count(t.canaryReq), pct(rate(t.baseErr, t.baseReq)), count(t.baseReq), num(e), num(need))}
}

func (a *Analyzer) latencyTest() *Reason {
	if a.slowTest.m.peak < a.rollbackLevel() {
		return nil
	}
	t := a.total
	e, need := eValue(a.slowTest.m.peak), 2/a.cfg.Alpha
	return &Reason{Observed: e, Threshold: need,
		Message: fmt.Sprintf("slow (> baseline %s, now %s) %s of %s canary requests vs %s of %s baseline; e-value %s ≥ %s",
			quantileName(a.cfg.SlowQuantile), ms(a.slowThreshold()),
			pct(rate(t.canarySlow, t.canarySlowReq)), count(t.canarySlowReq), pct(rate(t.baseSlow, t.baseSlowReq)), count(t.baseSlowReq), num(e), num(need))}
}

// quantileName writes 0.95 as "p95" and 0.999 as "p99.9".
func quantileName(q float64) string {
	return "p" + strconv.FormatFloat(math.Round(q*1e4)/100, 'f', -1, 64)
}
