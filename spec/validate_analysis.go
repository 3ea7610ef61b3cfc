package spec

import (
	"fmt"
	"slices"
	"strings"
)

// analysis checks spec.analysis. It applies whatever the strategy.
func (v *validator) analysis(path string, a *AnalysisSpec) {
	if a == nil {
		return
	}
	if p := a.MaxUnhealthyPercent; p != nil && (*p < 0 || *p > 100) {
		v.add(joinField(path, "maxUnhealthyPercent"), "must be a percentage between 0 and 100, got %d; leave it out for %d", *p, DefaultMaxUnhealthyPercent)
	}
	if p := a.MaxErrorPercent; p != nil && (*p <= 0 || *p > 100) {
		v.add(joinField(path, "maxErrorPercent"), "must be a percentage above 0 and at most 100, got %g; leave it out for %g, or disable ErrorRate to turn the check off", *p, DefaultMaxErrorPercent)
	}
	if r := a.MaxLatencyRatio; r != nil && *r <= 1 {
		v.add(joinField(path, "maxLatencyRatio"), "must be above 1 (a multiple of the stable revision's p95 latency), got %g; leave it out for %g", *r, DefaultMaxLatencyRatio)
	}
	if al := a.Alpha; al != nil && (*al <= 0 || *al > MaxAlpha) {
		v.add(joinField(path, "alpha"), "must be above 0 and at most %g, got %g; leave it out for %g", MaxAlpha, *al, DefaultAlpha)
	}
	if n := a.MinRequests; n != nil && (*n < 1 || *n > MaxMinRequests) {
		v.add(joinField(path, "minRequests"), "must be between 1 and %d, got %d; leave it out for %d", MaxMinRequests, *n, DefaultMinRequests)
	}
	for _, f := range []struct {
		name    string
		val     *float64
		hi, def float64
		unit    string
	}{
		{"errorMarginPercent", a.ErrorMarginPercent, MaxMarginPercent, DefaultErrorMarginPercent, "percent"},
		{"latencyMarginPercent", a.LatencyMarginPercent, MaxMarginPercent, DefaultLatencyMarginPercent, "percent"},
		{"latencyMarginMs", a.LatencyMarginMs, MaxLatencyMarginMs, DefaultLatencyMarginMs, "milliseconds"},
		{"warmUpSeconds", a.WarmUpSeconds, MaxWarmUpSeconds, DefaultWarmUpSeconds, "seconds"},
	} {
		if f.val != nil && !(*f.val >= 0 && *f.val <= f.hi) {
			v.add(joinField(path, f.name), "must be between 0 and %g %s, got %g; leave it out for %g", f.hi, f.unit, *f.val, f.def)
		}
	}
	if n := a.WarmUpRequests; n != nil && (*n < 0 || *n > MaxWarmUpRequests) {
		v.add(joinField(path, "warmUpRequests"), "must be between 0 and %d, got %d; leave it out for %d", MaxWarmUpRequests, *n, DefaultWarmUpRequests)
	}
	if b := a.Baseline; b != "" && !slices.Contains(AnalysisBaselines, b) {
		msg := fmt.Sprintf("%q is not a baseline", b)
		if c, ok := closest(b, AnalysisBaselines); ok {
			msg += fmt.Sprintf("; did you mean %s?", c)
		}
		v.add(joinField(path, "baseline"), "%s; use %s (fresh instances of the stable revision beside the canary, the default) or %s (the stable revision's serving instances)", msg, BaselineLikeForLike, BaselinePrimary)
	}
	first := map[string]int{}
	for i, name := range a.Disabled {
		ipath := fmt.Sprintf("%s.disabled[%d]", path, i)
		if !slices.Contains(AnalysisChecks, name) {
			msg := fmt.Sprintf("%q is not a check", name)
			if c, ok := closest(name, AnalysisChecks); ok {
				msg += fmt.Sprintf("; did you mean %s?", c)
			} else {
				msg += "; use one of " + strings.Join(AnalysisChecks, ", ")
			}
			v.add(ipath, "%s", msg)
			continue
		}
		if j, dup := first[name]; dup {
			v.add(ipath, "%s is already listed as %s.disabled[%d]; list each check once", name, path, j)
			continue
		}
		first[name] = i
	}
	v.queryChecks(joinField(path, "checks"), a.Checks)
	alerts := map[string]int{}
	for i, name := range a.AbortOnAlerts {
		ipath := fmt.Sprintf("%s.abortOnAlerts[%d]", path, i)
		if j, dup := alerts[name]; dup {
			v.add(ipath, "%s is already listed as %s.abortOnAlerts[%d]; list each alert once", name, path, j)
			continue
		}
		alerts[name] = i
		if !validAlertName(name) {
			v.add(ipath, "%q is not an alert name: use the alert: name of a rule in the server's rule files, such as HighErrorRate", name)
		}
	}
}

// validAlertName says whether s can be an alerting rule's name (a
// Prometheus metric name, which alertname values are by convention).
func validAlertName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r == '_' || r == ':' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}
