// Package analysis decides, from per-interval counts, whether a canary (or
// the green side of a blue-green rollout) should go on, wait, be promoted
// past its step, or be rolled back; and says why, with the numbers.
//
// It does no I/O and reads no clock: an Observation carries each
// revision's requests, 5xx errors and latency histogram for one interval
// (typically one second), the canary's instance state, and the time. An
// Analyzer folds observations into its state and returns a Verdict:
//
//	a, _ := analysis.New(analysis.DefaultConfig())
//	for obs := range observations {
//		v := a.Observe(obs)
//		switch v.Action { case analysis.Rollback: ...; case analysis.Promote: ... }
//	}
//
// # Rollback triggers
//
// Each is on by default with the deployment plan's value and can be set or
// turned off in Config:
//
//   - UnhealthyInstances: more than 10% of canary instances unhealthy.
//   - ErrorRate: the canary's 5xx share over the last Window (60s) above
//     5%, once the window holds MinErrorRequests (100) canary requests,
//     unless the baseline's share is above 5% too (an environment problem;
//     ErrorTest still compares the two).
//   - LatencyRatio: the canary's p95 over the last Window above 2× the
//     baseline's (and above the baseline's plus LatencyMarginAbs, 5ms),
//     once the window holds MinLatencyRequests (100) canary requests, and
//     beyond doubt: the share of canary requests above that limit must
//     exceed 5% by more than Hoeffding's bound sqrt(ln(10⁴)·Σnᵢ²/2)/n,
//     where nᵢ are the canary's requests in each observation of the window
//     and n their sum, so that a healthy canary fires it with probability
//     at most 10⁻⁴ per observation (0.36% over an hour). The unit is the
//     observation, not the request, because a stalled process or machine
//     slows every request of an interval together: a canary needs six
//     observations wholly above the limit, or a minute of them a third
//     above it. Histograms of different intervals cannot be merged into a
//     quantile through the Latencies interface, so the trigger uses an
//     equivalent form: the canary's p95 is above 2× the baseline's p95
//     exactly when more than 5% of the canary's requests took longer than
//     2× the baseline's p95. Each interval counts the canary's requests
//     above 2× that interval's baseline p95; the window sums those counts.
//   - Memory and CPU: the largest canary instance's use above the
//     workload's limit for ResourceFor (3) consecutive observations, so
//     that a single spike (a garbage collection, a burst) does not roll
//     back; a limit of zero never fires.
//   - Dependency: a canary instance's health check reports a failing
//     dependency (such as its database connection) that no baseline
//     instance reports, for DependencyFor (1) consecutive observations.
//     A dependency both report failing is an environment problem: the
//     verdict is Hold, with an Environment reason, until it clears.
//     While the baseline has instances none of which has answered its
//     health check yet, the comparison waits for them (BaselineHealthWait,
//     30s, at most).
//   - ErrorTest and LatencyTest: the sequential tests below.
//
// # Comparing like with like
//
// Margins. A difference too small to matter never rolls back. ErrorTest
// asks whether the canary's error rate is more than 1+ErrorMargin (1.25)
// times the baseline's; LatencyTest whether its p95 or its median is more
// than LatencyMargin (10%) and more than LatencyMarginAbs (5ms) slower. At
// sub-millisecond latencies a canary that receives 5% of the traffic is
// measurably slower than instances that receive 95% (each request pays to
// wake a process that was idle); that is where it stands, not what it is,
// and the absolute margin keeps it from rolling back.
//
// Warm-up. An instance's first WarmUpRequests (100) requests and its
// first WarmUp (10s) after it became ready pay for cold caches and new
// connections. While an instance of either group (the groups' newest
// ready times and ready counts come in Observation) is in its warm-up,
// the interval is not compared: it feeds neither the sequential tests,
// nor LatencyRatio, nor the evidence for Promote, and the verdict is Hold
// with a WarmUp reason. ErrorRate and the instance and resource triggers
// judge it all the same.
//
// A Rollback verdict is final: the Analyzer returns it for every later
// observation.
//
// # Sequential tests: is the canary worse than the baseline?
//
// The absolute thresholds miss a canary that is several times worse than
// the baseline but still under 5% errors. The sequential tests compare the
// two revisions directly and may be looked at after every observation
// without inflating false alarms. They follow Lindon & Malek, "Anytime-
// valid inference for multinomial count data" (NeurIPS 2022), adapted to a
// canary share that changes from one interval to the next.
//
// Events. For errors, an event is a 5xx response. For latency, an event is
// a slow request: one that took longer than a limit c_t fixed before
// interval t is seen: the baseline's p95 b_t (Config.SlowThreshold, or the
// request-weighted mean of the baseline's Config.SlowQuantile over the
// Window before t) plus the margins, c_t = max((1+LatencyMargin)·b_t,
// b_t + LatencyMarginAbs).
//
// Model. In interval t the canary served n_t requests and the baseline
// m_t; the canary's share is p_t = n_t / (n_t + m_t), from the actual
// request counts (configured weights are not what was served). Suppose each
// request of interval t is an event with probability q_t on the baseline
// and ρ·q_t on the canary. q_t may change freely over time (load, time of
// day, a shared dependency): it cancels out. The null hypothesis of the
// error test is H0: ρ ≤ ρ0 = 1+ErrorMargin (the canary is no worse than
// the margin allows); the slow-request comparison's is ρ ≤ 1.
//
// Conditioning on each interval's request counts and its number of events
// k_t = x_t + y_t (x_t on the canary, y_t on the baseline), and treating
// events as rare (Poisson), x_t is Binomial(k_t, θ_t) where
//
//	θ_t(ρ) = ρ·p_t / (ρ·p_t + 1 − p_t)
//
// is the probability that an event lands on the canary. Under ρ = 1 that is
// θ_t(1) = p_t: each event lands on the canary with probability equal to
// its traffic share.
//
// E-process. For one alternative ρ > 1 the likelihood ratio of interval t is
//
//	L_t(ρ) = (θ_t(ρ)/p_t)^x_t · ((1 − θ_t(ρ))/(1 − p_t))^y_t
//
// (with θ_t(ρ0) in place of p_t for a null ρ0 ≠ 1) and its expectation
// given the past and (n_t, m_t, k_t) is exactly 1 under ρ = ρ0 (it is a
// likelihood ratio of the conditional distribution), and at most 1 under
// any ρ < ρ0 (L_t grows with x_t, and x_t is stochastically smaller when θ
// is smaller). So M_T(ρ) = Π_{t≤T} L_t(ρ) is a nonnegative
// supermartingale under H0 with M_0 = 1, however p_t changes, as long as
// p_t and c_t are known before interval t's events are counted (the
// counts n_t, m_t are conditioned on; c_t depends only on earlier
// intervals). The e-process is a mixture over ρ,
//
//	E_T = Σ_j w_j · M_T(ρ_j),  ρ ∈ ρ0 × {1.5, 2, 3, 5, 8, 16, 64}, w_j = 1/7,
//
// again a nonnegative supermartingale with E_0 = 1. Lindon & Malek use a
// conjugate Beta (Dirichlet) mixture over the landing probability θ; with
// a share p_t that changes every interval θ is not a fixed parameter, so
// the mixture here is a discrete prior over the multiplicative effect ρ,
// which is what stays fixed. By Ville's inequality,
//
//	P_H0(sup_T E_T ≥ 1/a) ≤ a,
//
// so rolling back the first time E_T ≥ 1/a has false-rollback probability
// at most a over the whole rollout, however often it is checked. Alpha
// (0.01) is split evenly between the error and the latency test (a union
// bound), so each rolls back at E_T ≥ 2/Alpha = 200.
//
// The latency test is two pairs of e-processes, one for p95 and one for
// the median, and rolls back when both of one pair reach 4/Alpha (the
// union bound over the two pairs keeps the latency test's Alpha/2). The
// median pair is the p95 pair below with 1/2 in place of 5%, its mixture
// over 0.5 × {1.2, 1.4, 1.6, 1.8, 1.98}, and H0 ρ ≤ 1.5 for the
// comparison: on a busy machine the tail is the machine's noise, which
// hides a shift of the whole distribution at p95 (a canary 50% slower in
// bench/canary, p50 82.5 vs 59.2 ms, survived three minutes on the p95
// pair alone) but not at the median. Within the p95 pair, the first is one-sample: each canary request is slow with
// probability s_t, and H0 is s_t ≤ 1 − SlowQuantile (5%), that is, the
// canary's p95 is within the margins of the baseline's; its mixture is
// over s = 0.05 × {1.5, 2, 3, 5, 10, 19}. The second compares the slow
// requests' landing as above, with H0 ρ ≤ 3: it keeps a slowdown both
// groups share (one the baseline's recent p95 has not caught up with yet,
// or a busy machine's) from rolling back. Rejecting only when both reject, the false-rollback
// probability under either null is at most that test's, so the bound
// holds.
//
// Without the Poisson step. When each request is instead an independent
// Bernoulli(q_t) event (per revision), x_t given (n_t, m_t, k_t) under ρ = 1
// is hypergeometric: the k_t events are a uniformly random subset of the
// interval's requests. L_t is a convex function of x_t, and by Hoeffding
// (1963, Theorem 4) the expectation of a convex function of a sample drawn
// without replacement is at most that of the same sample drawn with
// replacement, the Binomial(k_t, p_t); so E[L_t] ≤ 1 still holds and the
// rollback tests stay valid under this model too.
//
// What validity needs from the caller: within one interval both revisions
// see the same conditions (intervals short enough, typically 1s), event
// status does not change which revision a request is sent to, and
// Latencies.CountAbove judges each request on its own (see Buckets).
//
// An interval in which one revision served nothing (p_t = 0 or 1, as after
// a blue-green switch) carries no comparative evidence and leaves the
// e-values unchanged; only the threshold triggers judge such a rollout.
//
// Detection speed follows from the evidence available. With a 5% canary
// share, 1,000 requests/s and a 0.1% baseline error rate, about 1.2 errors
// per second are observed in all; a canary with 5× the error rate makes
// θ ≈ 0.21 instead of 0.05, worth about 0.15 nats (the Kullback-Leibler
// divergence) per event, and the test needs log(200·7) ≈ 7.2 nats: about
// 40 seconds on average. A 2× canary gives 0.017 nats per event and needs
// several minutes; no valid test can be much faster, because that is how
// little the data says. bench/analysis measures these times.
//
// # Promote: evidence that the canary is not worse
//
// A step's verdict is Promote only when, in that step, (1) the canary
// served at least MinRequests (500) compared requests, (2) no rollback
// trigger fired, (3) for errors an e-test rejected "the canary is worse
// by at least PromoteMargin (2×)", and (4) when both revisions' latencies
// are observed in the step, an e-test rejected "at least 5% of the
// canary's requests are slow" (its p95 beyond the margins), a mixture
// over 5% × {0.6, 0.3, 0.1, 0}, or one rejected "the canary's share of
// slow requests is at least PromoteMargin times the baseline's" (the
// comparison a slowdown both share cannot hide). The error test's dual uses the same per-interval likelihood
// ratios with the null ρ ≥ PromoteMargin and a mixture over the
// alternatives ρ ∈ PromoteMargin × {0.8, 0.6, 0.4, 0.2, 0}; L_t now falls
// with x_t, so it is a supermartingale under every ρ ≥ PromoteMargin, and
// reaching 1/PromoteAlpha (20) says, with error at most PromoteAlpha (5%),
// that the canary's rate is below PromoteMargin times the baseline's: the
// anytime-valid upper confidence bound on ρ is below the margin. (For this
// direction the Poisson step is an approximation for rare events.)
//
// When the baseline has (almost) no errors, there is nothing to compare,
// and errors may instead be shown negligible: an e-test of "the canary's
// error rate is at least NegligibleErrorRate (0.5%)" against lower rates
// (a mixture over that rate × {0.6, 0.3, 0.1, 0}; each request is a
// Bernoulli draw). With no canary errors at all it passes after about
// 900 canary requests.
//
// Without the evidence the verdict is Hold while the step has fewer than
// MinRequests canary requests ("need ≥ 500 compared canary requests in
// this step, have 212"), and Continue after that, its reasons saying which evidence is
// still missing. Nothing is ever promoted merely because nothing bad was
// seen. The promote tests start anew at each step; the rollback tests run
// over the whole rollout.
package analysis
