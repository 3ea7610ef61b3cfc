package analysis

import (
	"fmt"
	"slices"
	"time"
)

// Config sets the analysis' triggers and tests. Start from DefaultConfig;
// its values are gantry's deployment plan's. A zero Config is not usable:
// New fills every zero field with its default (so a zero field means
// "default", never "off"); turn a check off with Disabled.
type Config struct {
	// Alpha is the false-rollback budget of the sequential tests over a
	// whole rollout, split evenly between errors and latency: ErrorTest
	// rolls back when its e-value reaches 2/Alpha, LatencyTest when those
	// of one of its two quantiles reach 4/Alpha. Default 0.01.
	Alpha float64
	// Window is how far back the threshold triggers ErrorRate and
	// LatencyRatio look, measured on Observation.At. Default 60s.
	Window time.Duration

	// MaxUnhealthyShare: roll back when more than this share of canary
	// instances is unhealthy. Default 0.10.
	MaxUnhealthyShare float64
	// MaxErrorRate: roll back when the canary's 5xx share over Window is
	// above it. Default 0.05.
	MaxErrorRate float64
	// MinErrorRequests is how many canary requests Window must hold before
	// ErrorRate can fire. Default 100.
	MinErrorRequests int
	// MaxLatencyRatio: roll back when the canary's LatencyQuantile over
	// Window is above this multiple of the baseline's. Default 2.
	MaxLatencyRatio float64
	// LatencyQuantile is the quantile LatencyRatio compares. Default 0.95.
	LatencyQuantile float64
	// MinLatencyRequests is how many canary requests Window must hold
	// before LatencyRatio can fire. Default 100.
	MinLatencyRequests int
	// ResourceFor is how many consecutive observations memory or CPU must
	// be above the limit before Memory or CPU fires, so that a single spike
	// does not roll back. Default 3.
	ResourceFor int
	// DependencyFor is how many consecutive observations a canary instance
	// must report a failing dependency before Dependency fires. Default 1.
	DependencyFor int

	// SlowQuantile is the quantile LatencyTest and LatencyEvidence compare:
	// the baseline's SlowQuantile, as the request-weighted mean over the
	// Window before each observation, plus the latency margin, is the
	// canary's "slow" threshold, and the canary is worse when more than
	// 1 − SlowQuantile of its requests are slow. Default 0.95 (p95).
	SlowQuantile float64
	// SlowThreshold, when positive, fixes the baseline's SlowQuantile
	// instead of measuring it (the margins still apply). Zero: measure it.
	SlowThreshold time.Duration

	// ErrorMargin is the smallest relative increase of the canary's error
	// rate over the baseline's that ErrorTest rolls back for: the test's
	// null hypothesis is "the canary's error rate is at most 1+ErrorMargin
	// times the baseline's". Default 0.25 (25% more errors); negative: no
	// margin (any increase).
	ErrorMargin float64
	// LatencyMargin and LatencyMarginAbs are how much slower than the
	// baseline the canary's SlowQuantile may be before LatencyTest rolls
	// back: it must be both more than LatencyMargin (relative) and more
	// than LatencyMarginAbs slower. Defaults 0.10 and 5ms: a p95 of 0.45ms
	// may grow to 5.45ms, one of 200ms to 220ms. LatencyRatio's threshold
	// never falls below the baseline's quantile plus LatencyMarginAbs
	// either. Negative: no margin. The proxy's histogram buckets (four per
	// doubling) round the threshold up to the next bucket bound, so the
	// effective relative margin lies between LatencyMargin and about 25%.
	LatencyMargin    float64
	LatencyMarginAbs time.Duration

	// WarmUpRequests and WarmUp: an instance's first WarmUpRequests
	// requests, and those in its first WarmUp after it became ready, are
	// not compared: while an instance of either group is warming up, the
	// interval feeds neither the sequential tests, nor LatencyRatio, nor
	// the evidence for Promote (ErrorRate, instance and resource triggers
	// still judge it). Defaults 100 requests and 10s: on the sample
	// workload a fresh canary's p95 was still twice the stable revision's
	// 13s after it became ready on a busy machine. Negative: none.
	WarmUpRequests int
	WarmUp         time.Duration

	// MinRequests is how many canary requests a step must see before the
	// verdict can be anything but Hold or Rollback. Default 500.
	MinRequests int
	// PromoteMargin: Promote needs evidence that the canary's error rate
	// and slow-request rate are each below this multiple of the baseline's.
	// Default 2.
	PromoteMargin float64
	// PromoteAlpha is the error allowed in that evidence: it is found when
	// an e-value reaches 1/PromoteAlpha. Default 0.05.
	PromoteAlpha float64
	// NegligibleErrorRate: errors are also shown not worse when the
	// canary's error rate is shown below this share, which lets a canary be
	// promoted while the baseline has too few errors to compare. Default
	// 0.005.
	NegligibleErrorRate float64

	// Disabled lists the checks that are off. A disabled ErrorEvidence or
	// LatencyEvidence is not required for Promote.
	Disabled []Trigger
}

// DefaultConfig returns gantry's defaults (see each Config field).
func DefaultConfig() Config {
	return Config{
		Alpha:               0.01,
		Window:              60 * time.Second,
		MaxUnhealthyShare:   0.10,
		MaxErrorRate:        0.05,
		MinErrorRequests:    100,
		MaxLatencyRatio:     2,
		LatencyQuantile:     0.95,
		MinLatencyRequests:  100,
		ResourceFor:         3,
		DependencyFor:       1,
		SlowQuantile:        0.95,
		MinRequests:         500,
		PromoteMargin:       2,
		PromoteAlpha:        0.05,
		NegligibleErrorRate: 0.005,
		ErrorMargin:         0.25,
		LatencyMargin:       0.10,
		LatencyMarginAbs:    5 * time.Millisecond,
		WarmUpRequests:      100,
		WarmUp:              10 * time.Second,
	}
}

// orNone is v, or zero when v is negative ("none").
func orNone[T ~int | ~float64 | ~int64](v T) T { return max(v, 0) }

// Enabled reports whether check t is on.
func (c Config) Enabled(t Trigger) bool { return !slices.Contains(c.Disabled, t) }

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	setF := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	setI := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setF(&c.Alpha, d.Alpha)
	if c.Window == 0 {
		c.Window = d.Window
	}
	setF(&c.MaxUnhealthyShare, d.MaxUnhealthyShare)
	setF(&c.MaxErrorRate, d.MaxErrorRate)
	setI(&c.MinErrorRequests, d.MinErrorRequests)
	setF(&c.MaxLatencyRatio, d.MaxLatencyRatio)
	setF(&c.LatencyQuantile, d.LatencyQuantile)
	setI(&c.MinLatencyRequests, d.MinLatencyRequests)
	setI(&c.ResourceFor, d.ResourceFor)
	setI(&c.DependencyFor, d.DependencyFor)
	setF(&c.SlowQuantile, d.SlowQuantile)
	setI(&c.MinRequests, d.MinRequests)
	setF(&c.PromoteMargin, d.PromoteMargin)
	setF(&c.PromoteAlpha, d.PromoteAlpha)
	setF(&c.NegligibleErrorRate, d.NegligibleErrorRate)
	setF(&c.ErrorMargin, d.ErrorMargin)
	setF(&c.LatencyMargin, d.LatencyMargin)
	setI(&c.WarmUpRequests, d.WarmUpRequests)
	if c.LatencyMarginAbs == 0 {
		c.LatencyMarginAbs = d.LatencyMarginAbs
	}
	if c.WarmUp == 0 {
		c.WarmUp = d.WarmUp
	}
	return c
}

// Validate reports the first field out of range, naming it and its range.
// Zero fields are valid: they take their defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	inOpen := func(name string, v float64) error {
		if !(v > 0 && v < 1) {
			return fmt.Errorf("analysis config: %s is %g; want a share between 0 and 1 (exclusive)", name, v)
		}
		return nil
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"alpha", c.Alpha}, {"maxUnhealthyShare", c.MaxUnhealthyShare}, {"maxErrorRate", c.MaxErrorRate},
		{"latencyQuantile", c.LatencyQuantile}, {"slowQuantile", c.SlowQuantile},
		{"promoteAlpha", c.PromoteAlpha}, {"negligibleErrorRate", c.NegligibleErrorRate},
	} {
		if err := inOpen(f.name, f.v); err != nil {
			return err
		}
	}
	if c.MaxLatencyRatio <= 1 {
		return fmt.Errorf("analysis config: maxLatencyRatio is %g; want more than 1 (2 means twice the baseline)", c.MaxLatencyRatio)
	}
	if c.PromoteMargin <= 1 {
		return fmt.Errorf("analysis config: promoteMargin is %g; want more than 1 (2 means at most twice the baseline's rate)", c.PromoteMargin)
	}
	if c.Window < 0 || c.SlowThreshold < 0 {
		return fmt.Errorf("analysis config: window and slowThreshold must not be negative")
	}
	if c.MinErrorRequests < 0 || c.MinLatencyRequests < 0 || c.ResourceFor < 0 || c.DependencyFor < 0 || c.MinRequests < 0 {
		return fmt.Errorf("analysis config: counts (minRequests, minErrorRequests, minLatencyRequests, resourceFor, dependencyFor) must not be negative")
	}
	return nil
}
