package pipeline

import "fmt"

// PerfVerdict is the decision on one performance test.
type PerfVerdict struct {
	Passed bool
	Reason string
}

// JudgePerf passes a performance test when the new revision's p95 is at
// most MaxRatio times the stable revision's, it answered every request
// without a server error, and it answered any; with no stable revision
// (0 ms) only the last two hold.
func JudgePerf(r PerfResult) PerfVerdict {
	switch {
	case r.Requests == 0:
		return PerfVerdict{Reason: "the new revision answered no request during the performance test"}
	case r.Errors > 0:
		return PerfVerdict{Reason: fmt.Sprintf("the new revision failed %d of %d requests during the performance test", r.Errors, r.Requests)}
	case r.StableP95Ms <= 0:
		return PerfVerdict{Passed: true, Reason: fmt.Sprintf("p95 %.1f ms over %d requests; no stable revision to compare with", r.NewP95Ms, r.Requests)}
	case r.Ratio > r.MaxRatio:
		return PerfVerdict{Reason: fmt.Sprintf("p95 %.1f ms is %.2f× the stable revision's %.1f ms, above the %.1f× limit", r.NewP95Ms, r.Ratio, r.StableP95Ms, r.MaxRatio)}
	}
	return PerfVerdict{Passed: true, Reason: fmt.Sprintf("p95 %.1f ms is %.2f× the stable revision's %.1f ms (limit %.1f×) over %d requests", r.NewP95Ms, r.Ratio, r.StableP95Ms, r.MaxRatio, r.Requests)}
}
