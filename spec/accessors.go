package spec

import (
	"net/netip"
	"strings"
	"time"
)

// The accessors below return concrete values for a resolved AppSpec (see
// App.Resolve). They apply the defaults themselves, so they also give the
// right answer on a spec whose defaults were never set.

// ReplicaCount is the number of instances to run. Default 3.
func (s AppSpec) ReplicaCount() int { return intOr(s.Replicas, DefaultReplicas) }

// rollingUpdate returns maxSurge and maxUnavailable with their defaults. A
// strategy of another type reads the defaults (1 and 0).
func (s AppSpec) rollingUpdate() (surge, unavailable IntOrString) {
	surge, unavailable = *Int(DefaultMaxSurge), *Int(DefaultMaxUnavailable)
	if r := s.Strategy.RollingUpdate; r != nil {
		if r.MaxSurge != nil {
			surge = *r.MaxSurge
		}
		if r.MaxUnavailable != nil {
			unavailable = *r.MaxUnavailable
		}
	}
	return surge, unavailable
}

// MaxSurgeCount is how many instances may run above ReplicaCount during a
// rolling update. A percentage is taken of ReplicaCount and rounded up, as
// Kubernetes does: 25% of 3 is 1. Default 1.
func (s AppSpec) MaxSurgeCount() int {
	surge, _ := s.rollingUpdate()
	return scaled(surge, s.ReplicaCount(), true)
}

// MaxUnavailableCount is how many of ReplicaCount instances may be
// unavailable during a rolling update. A percentage is taken of
// ReplicaCount and rounded down, as Kubernetes does: 25% of 3 is 0.
// Default 0.
func (s AppSpec) MaxUnavailableCount() int {
	_, unavailable := s.rollingUpdate()
	return scaled(unavailable, s.ReplicaCount(), false)
}

// ProgressDeadline is how long a rollout may go without progress before it
// is rolled back. Default 10 minutes.
func (s AppSpec) ProgressDeadline() time.Duration {
	return seconds(intOr(s.ProgressDeadlineSeconds, DefaultProgressDeadlineSeconds))
}

// MinReady is how long an instance must be ready before it counts as
// available. Default 0.
func (s AppSpec) MinReady() time.Duration { return seconds(s.MinReadySeconds) }

// GracePeriod is the time between SIGTERM and SIGKILL. Default 30s.
func (s AppSpec) GracePeriod() time.Duration {
	return seconds(intOr(s.TerminationGracePeriodSeconds, DefaultTerminationGracePeriodSeconds))
}

// HistoryLimit is how many old revisions are kept. Default 10.
func (s AppSpec) HistoryLimit() int {
	return intOr(s.RevisionHistoryLimit, DefaultRevisionHistoryLimit)
}

// StrategyType is the strategy's type, RollingUpdate when unset.
func (s AppSpec) StrategyType() StrategyType {
	if s.Strategy.Type == "" {
		return RollingUpdate
	}
	return s.Strategy.Type
}

// String returns the strategy's name as written in gantry.yaml.
func (t StrategyType) String() string { return string(t) }

// Period is how often the probe runs. Default 10s.
func (p Probe) Period() time.Duration {
	return seconds(positiveOr(p.PeriodSeconds, DefaultProbePeriodSeconds))
}

// Timeout is how long one probe request may take. Default 1s.
func (p Probe) Timeout() time.Duration {
	return seconds(positiveOr(p.TimeoutSeconds, DefaultProbeTimeoutSeconds))
}

// InitialDelay is how long after start the first probe runs. Default 0.
func (p Probe) InitialDelay() time.Duration { return seconds(max(p.InitialDelaySeconds, 0)) }

// Successes is how many passes in a row make the probe pass. Default 1.
func (p Probe) Successes() int { return positiveOr(p.SuccessThreshold, DefaultProbeSuccessThreshold) }

// Failures is how many failures in a row make the probe fail. Default 3.
func (p Probe) Failures() int { return positiveOr(p.FailureThreshold, DefaultProbeFailureThreshold) }

// Wait is how long the pause lasts; 0 means until the rollout is promoted.
// A duration that does not parse (only possible in an unvalidated spec)
// also reads as 0.
func (p PauseStep) Wait() time.Duration {
	if p.Duration == "" {
		return 0
	}
	d, err := time.ParseDuration(p.Duration)
	if err != nil || d < 0 {
		return 0
	}
	return d
}

// AutoPromote says whether traffic switches to green on its own once green
// is ready and its checks pass. Default true.
func (b BlueGreenStrategy) AutoPromote() bool {
	if b.AutoPromotion == nil {
		return DefaultAutoPromotion
	}
	return *b.AutoPromotion
}

// ScaleDownDelay is how long blue keeps running after the switch. Default 30s.
func (b BlueGreenStrategy) ScaleDownDelay() time.Duration {
	return seconds(intOr(b.ScaleDownDelaySeconds, DefaultScaleDownDelaySeconds))
}

// PortOrDefault is the workload's port, 8080 when unset.
func (w Workload) PortOrDefault() int { return positiveOr(w.Port, DefaultPort) }

func intOr(p *int, d int) int {
	if p == nil {
		return d
	}
	return *p
}

func positiveOr(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }

// Label names the smoke test in events and messages: its Name, else the
// method and path ("GET /health"), else the command joined by spaces.
func (t SmokeTest) Label() string {
	switch {
	case t.Name != "":
		return t.Name
	case t.Path != "":
		return t.HTTPMethod() + " " + t.Path
	default:
		return strings.Join(t.Command, " ")
	}
}

// Timeout bounds one run of the smoke test. Default 10s.
func (t SmokeTest) Timeout() time.Duration {
	return seconds(positiveOr(t.TimeoutSeconds, DefaultSmokeTestTimeoutSeconds))
}

// Status is the HTTP status that passes. Default 200.
func (t SmokeTest) Status() int { return positiveOr(t.ExpectStatus, DefaultSmokeTestStatus) }

// HTTPMethod is the method the request is sent with. Default GET.
func (t SmokeTest) HTTPMethod() string {
	if t.Method == "" {
		return DefaultSmokeTestMethod
	}
	return t.Method
}

// byName returns the timeouts by their field names in the spec.
func (t ProxyTimeouts) byName() map[string]string {
	return map[string]string{
		"header": t.Header, "body": t.Body, "connect": t.Connect, "responseHeader": t.ResponseHeader,
		"upstream": t.Upstream, "clientWrite": t.ClientWrite, "keepAlive": t.KeepAlive,
	}
}

// ProxyDurations are ProxyTimeouts parsed; zero means unset (the proxy's
// default).
type ProxyDurations struct {
	Header, Body, Connect, ResponseHeader, Upstream, ClientWrite, KeepAlive time.Duration
}

// Durations returns the timeouts parsed. Validate has checked them; an
// invalid one reads as unset.
func (t ProxyTimeouts) Durations() ProxyDurations {
	parse := func(s string) time.Duration {
		d, _ := time.ParseDuration(s)
		return max(d, 0)
	}
	return ProxyDurations{
		Header: parse(t.Header), Body: parse(t.Body), Connect: parse(t.Connect),
		ResponseHeader: parse(t.ResponseHeader), Upstream: parse(t.Upstream),
		ClientWrite: parse(t.ClientWrite), KeepAlive: parse(t.KeepAlive),
	}
}

// ParseTrustedProxy parses a trustedProxies entry: a CIDR range, or one
// address (a range of one).
func ParseTrustedProxy(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}
