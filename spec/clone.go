package spec

import "slices"

// clone returns a deep copy of s: no pointer or slice is shared with s.
func (s AppSpec) clone() AppSpec {
	s.Replicas = clonePtr(s.Replicas)
	s.ProgressDeadlineSeconds = clonePtr(s.ProgressDeadlineSeconds)
	s.RevisionHistoryLimit = clonePtr(s.RevisionHistoryLimit)
	s.TerminationGracePeriodSeconds = clonePtr(s.TerminationGracePeriodSeconds)
	s.Workload.Args = slices.Clone(s.Workload.Args)
	s.Workload.Env = slices.Clone(s.Workload.Env)
	s.LivenessProbe = s.LivenessProbe.clone()
	s.ReadinessProbe = s.ReadinessProbe.clone()
	s.Strategy = s.Strategy.clone()
	s.Analysis = s.Analysis.clone()
	s.Metrics = s.Metrics.clone()
	s.Database = s.Database.clone()
	s.Kubernetes = s.Kubernetes.clone()
	return s
}

func (a *AnalysisSpec) clone() *AnalysisSpec {
	if a == nil {
		return nil
	}
	c := *a
	c.MaxUnhealthyPercent = clonePtr(a.MaxUnhealthyPercent)
	c.MaxErrorPercent = clonePtr(a.MaxErrorPercent)
	c.MaxLatencyRatio = clonePtr(a.MaxLatencyRatio)
	c.Alpha = clonePtr(a.Alpha)
	c.MinRequests = clonePtr(a.MinRequests)
	c.ErrorMarginPercent = clonePtr(a.ErrorMarginPercent)
	c.LatencyMarginPercent = clonePtr(a.LatencyMarginPercent)
	c.LatencyMarginMs = clonePtr(a.LatencyMarginMs)
	c.WarmUpRequests = clonePtr(a.WarmUpRequests)
	c.WarmUpSeconds = clonePtr(a.WarmUpSeconds)
	c.Disabled = slices.Clone(a.Disabled)
	c.AbortOnAlerts = slices.Clone(a.AbortOnAlerts)
	c.Checks = slices.Clone(a.Checks)
	return &c
}

func (p *Probe) clone() *Probe {
	if p == nil {
		return nil
	}
	c := *p
	c.HTTPGet = clonePtr(p.HTTPGet)
	return &c
}

func (s Strategy) clone() Strategy {
	if s.RollingUpdate != nil {
		r := *s.RollingUpdate
		r.MaxSurge = clonePtr(r.MaxSurge)
		r.MaxUnavailable = clonePtr(r.MaxUnavailable)
		s.RollingUpdate = &r
	}
	if s.Canary != nil {
		c := CanaryStrategy{Steps: make([]CanaryStep, len(s.Canary.Steps))}
		for i, st := range s.Canary.Steps {
			c.Steps[i] = CanaryStep{SetWeight: clonePtr(st.SetWeight), Pause: clonePtr(st.Pause), SetFlag: clonePtr(st.SetFlag)}
		}
		if s.Canary.Steps == nil {
			c.Steps = nil
		}
		s.Canary = &c
	}
	if s.BlueGreen != nil {
		b := *s.BlueGreen
		b.AutoPromotion = clonePtr(b.AutoPromotion)
		b.ScaleDownDelaySeconds = clonePtr(b.ScaleDownDelaySeconds)
		b.SmokeTests = slices.Clone(b.SmokeTests)
		for i := range b.SmokeTests {
			b.SmokeTests[i].Command = slices.Clone(b.SmokeTests[i].Command)
		}
		s.BlueGreen = &b
	}
	return s
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}
