package spec

// Defaults gantry applies when a field is unset. The numbers follow the
// deployment plan gantry implements (3 replicas, maxSurge 1,
// maxUnavailable 0) and Kubernetes' own defaults elsewhere.
const (
	// DefaultReplicas is the instance count when spec.replicas is unset.
	DefaultReplicas = 3
	// MaxReplicas is the largest replica count gantry accepts.
	MaxReplicas = 1000
	// DefaultMaxSurge is the rolling update's maxSurge, in instances.
	DefaultMaxSurge = 1
	// DefaultMaxUnavailable is the rolling update's maxUnavailable, in instances.
	DefaultMaxUnavailable = 0
	// DefaultProgressDeadlineSeconds is how long a rollout may make no progress.
	DefaultProgressDeadlineSeconds = 600
	// DefaultRevisionHistoryLimit is how many old revisions are kept.
	DefaultRevisionHistoryLimit = 10
	// DefaultTerminationGracePeriodSeconds is the time between SIGTERM and SIGKILL.
	DefaultTerminationGracePeriodSeconds = 30
	// DefaultPort is the workload's port when workload.port is unset.
	DefaultPort = 8080
	// DefaultProbePeriodSeconds is how often a probe runs.
	DefaultProbePeriodSeconds = 10
	// DefaultProbeTimeoutSeconds is how long one probe request may take.
	DefaultProbeTimeoutSeconds = 1
	// DefaultProbeSuccessThreshold is how many passes in a row make a probe pass.
	DefaultProbeSuccessThreshold = 1
	// DefaultProbeFailureThreshold is how many failures in a row make a probe fail.
	DefaultProbeFailureThreshold = 3
	// DefaultCanaryPause is the length of each pause in DefaultCanarySteps.
	DefaultCanaryPause = "30s"
	// DefaultScaleDownDelaySeconds is how long blue keeps running after a
	// blue-green switch.
	DefaultScaleDownDelaySeconds = 30
	// DefaultAutoPromotion is whether blue-green switches traffic on its own
	// once green is ready.
	DefaultAutoPromotion = true
)

// Backends an environment can use.
const (
	// BackendLocal runs instances as processes on this machine (the default).
	BackendLocal = "local"
	// BackendKubernetes runs instances as a Kubernetes Deployment.
	BackendKubernetes = "kubernetes"
)

// DefaultCanarySteps returns the canary steps used when a Canary strategy
// lists none, after the deployment plan: 5% of traffic, pause 30s, 25%,
// pause 30s, 50%, pause 30s, then 100%. Each call returns a fresh slice.
func DefaultCanarySteps() []CanaryStep {
	weight := func(w int) CanaryStep { return CanaryStep{SetWeight: &w} }
	pause := func() CanaryStep { return CanaryStep{Pause: &PauseStep{Duration: DefaultCanaryPause}} }
	return []CanaryStep{
		weight(5), pause(),
		weight(25), pause(),
		weight(50), pause(),
		weight(100),
	}
}

// BackendName returns the environment's backend, "local" when unset.
func (e Environment) BackendName() string {
	if e.Backend == "" {
		return BackendLocal
	}
	return e.Backend
}

// WithDefaults returns a deep copy of s with every unset field set to its
// default: replicas, port, probe timings and ports, the strategy type and
// its sub-struct, deadlines and limits. Quantities are parsed into
// MemoryBytes and CPUMillis; an unparsable quantity is left at 0.
func (s AppSpec) WithDefaults() AppSpec {
	s = s.clone()
	setInt := func(p **int, v int) {
		if *p == nil {
			*p = &v
		}
	}
	setInt(&s.Replicas, DefaultReplicas)
	setInt(&s.ProgressDeadlineSeconds, DefaultProgressDeadlineSeconds)
	setInt(&s.RevisionHistoryLimit, DefaultRevisionHistoryLimit)
	setInt(&s.TerminationGracePeriodSeconds, DefaultTerminationGracePeriodSeconds)
	if s.Workload.Port == 0 {
		s.Workload.Port = DefaultPort
	}
	for _, p := range []*Probe{s.LivenessProbe, s.ReadinessProbe} {
		if p != nil {
			p.setDefaults(s.Workload.Port)
		}
	}
	s.Strategy.setDefaults()
	_ = s.Resources.Requests.parse()
	_ = s.Resources.Limits.parse()
	return s
}

func (p *Probe) setDefaults(port int) {
	orDefault := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	orDefault(&p.PeriodSeconds, DefaultProbePeriodSeconds)
	orDefault(&p.TimeoutSeconds, DefaultProbeTimeoutSeconds)
	orDefault(&p.SuccessThreshold, DefaultProbeSuccessThreshold)
	orDefault(&p.FailureThreshold, DefaultProbeFailureThreshold)
	if p.HTTPGet != nil {
		orDefault(&p.HTTPGet.Port, port)
		if p.HTTPGet.Scheme == "" {
			p.HTTPGet.Scheme = "HTTP"
		}
	}
}

func (s *Strategy) setDefaults() {
	if s.Type == "" {
		s.Type = RollingUpdate
	}
	switch s.Type {
	case RollingUpdate:
		if s.RollingUpdate == nil {
			s.RollingUpdate = &RollingUpdateStrategy{}
		}
		if s.RollingUpdate.MaxSurge == nil {
			s.RollingUpdate.MaxSurge = Int(DefaultMaxSurge)
		}
		if s.RollingUpdate.MaxUnavailable == nil {
			s.RollingUpdate.MaxUnavailable = Int(DefaultMaxUnavailable)
		}
	case Canary:
		if s.Canary == nil {
			s.Canary = &CanaryStrategy{}
		}
		if len(s.Canary.Steps) == 0 {
			s.Canary.Steps = DefaultCanarySteps()
		}
	case BlueGreen:
		if s.BlueGreen == nil {
			s.BlueGreen = &BlueGreenStrategy{}
		}
		if s.BlueGreen.AutoPromotion == nil {
			b := DefaultAutoPromotion
			s.BlueGreen.AutoPromotion = &b
		}
		if s.BlueGreen.ScaleDownDelaySeconds == nil {
			d := DefaultScaleDownDelaySeconds
			s.BlueGreen.ScaleDownDelaySeconds = &d
		}
	}
}
