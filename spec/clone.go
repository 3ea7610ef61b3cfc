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
	return s
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
			c.Steps[i] = CanaryStep{SetWeight: clonePtr(st.SetWeight), Pause: clonePtr(st.Pause)}
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
