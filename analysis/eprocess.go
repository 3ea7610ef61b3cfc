package analysis

import "math"

// This file holds the e-processes; doc.go derives them.

// mixture is an equally weighted mixture of likelihood-ratio martingales,
// kept as log likelihood ratios so that it neither overflows nor underflows.
type mixture struct {
	logLR []float64
	// peak is the largest log e-value seen so far.
	peak float64
}

func newMixture(n int) mixture {
	return mixture{logLR: make([]float64, n)}
}

// logE returns the log of the current e-value: log(mean_j exp(logLR_j)).
func (m *mixture) logE() float64 {
	top := math.Inf(-1)
	for _, l := range m.logLR {
		top = max(top, l)
	}
	if math.IsInf(top, -1) {
		return top
	}
	var s float64
	for _, l := range m.logLR {
		s += math.Exp(l - top)
	}
	return top + math.Log(s/float64(len(m.logLR)))
}

func (m *mixture) reset() {
	clear(m.logLR)
	m.peak = 0
}

// record updates peak after the components changed.
func (m *mixture) record() {
	m.peak = max(m.peak, m.logE())
}

// bernoulliLogLR is the log likelihood ratio of x successes and y failures
// under success probability a against a0. It handles a = 0 and a = 1.
func bernoulliLogLR(x, y, a, a0 float64) float64 {
	var l float64
	if x > 0 {
		l += x * (math.Log(a) - math.Log(a0)) // -Inf when a = 0
	}
	if y > 0 {
		l += y * (math.Log1p(-a) - math.Log1p(-a0)) // -Inf when a = 1
	}
	return l
}

// landing returns the probability that an event lands on the canary when
// the canary's event rate is rho times the baseline's and it served share p
// of the requests.
func landing(rho, p float64) float64 {
	if math.IsInf(rho, 1) {
		return 1
	}
	return rho * p / (rho*p + 1 - p)
}

// ratioTest is the e-process for "the canary's event rate is rho0 times the
// baseline's (or less, for the rollback direction; or more, for the
// promote direction)" against a mixture over the ratios rhos. Each event is
// a Bernoulli draw: did it land on the canary?
type ratioTest struct {
	rho0 float64
	rhos []float64
	m    mixture
}

func newRatioTest(rho0 float64, rhos []float64) ratioTest {
	return ratioTest{rho0: rho0, rhos: rhos, m: newMixture(len(rhos))}
}

// observe adds one interval: xc events on the canary, xb on the baseline,
// the canary having served share p of the interval's requests. An interval
// without events, or where one revision served nothing, carries no
// evidence and leaves the e-value as it was.
func (t *ratioTest) observe(xc, xb uint64, p float64) {
	if xc+xb == 0 || !(p > 0 && p < 1) {
		return
	}
	a0 := landing(t.rho0, p)
	for j, rho := range t.rhos {
		t.m.logLR[j] += bernoulliLogLR(float64(xc), float64(xb), landing(rho, p), a0)
	}
	t.m.record()
}

// rateTest is the e-process for "the canary's per-request event rate is
// at least q0" against a mixture over lower rates (fractions below 1), or
// for "at most q0" against higher ones (fractions above 1; a rate that
// would reach 1 is left out). Each request is a Bernoulli draw.
type rateTest struct {
	// logHit and logMiss are, per component, log(q/q0) and log((1-q)/(1-q0)).
	logHit, logMiss []float64
	m               mixture
}

func newRateTest(q0 float64, fractions []float64) rateTest {
	t := rateTest{}
	for _, f := range fractions {
		q := f * q0
		if q >= 1 {
			continue
		}
		t.logHit = append(t.logHit, math.Log(q)-math.Log(q0))
		t.logMiss = append(t.logMiss, math.Log1p(-q)-math.Log1p(-q0))
	}
	t.m = newMixture(len(t.logHit))
	return t
}

// observe adds x events among n requests.
func (t *rateTest) observe(x, n uint64) {
	if n == 0 {
		return
	}
	xf, yf := float64(x), float64(n-min(x, n))
	for j := range t.logHit {
		if x > 0 {
			t.m.logLR[j] += xf * t.logHit[j]
		}
		t.m.logLR[j] += yf * t.logMiss[j]
	}
	t.m.record()
}

// The mixtures' components. rollbackRatios are the alternatives of the
// rollback tests (canary rate = rho × baseline rate); promoteFractions
// multiply Config.PromoteMargin for the promote tests' alternatives;
// negligibleFractions multiply Config.NegligibleErrorRate (and 1 −
// SlowQuantile for LatencyEvidence); exceedFractions multiply 1 −
// SlowQuantile for LatencyTest's rate above the slow limit.
var (
	rollbackRatios      = []float64{1.5, 2, 3, 5, 8, 16, 64}
	exceedFractions     = []float64{1.5, 2, 3, 5, 10, 19}
	promoteFractions    = []float64{0.8, 0.6, 0.4, 0.2, 0}
	negligibleFractions = []float64{0.6, 0.3, 0.1, 0}
	// medianFractions multiply 1/2 for LatencyTest's median: the canary's
	// share above the median limit at 60% to 99%.
	medianFractions = []float64{1.2, 1.4, 1.6, 1.8, 1.98}
)
