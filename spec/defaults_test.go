package spec

import (
	"slices"
	"testing"
	"time"
)

func TestAppSpec_WithDefaults(t *testing.T) {
	s := AppSpec{
		LivenessProbe:  &Probe{HTTPGet: &HTTPGetAction{Path: "/health"}},
		ReadinessProbe: &Probe{HTTPGet: &HTTPGetAction{Path: "/ready"}, PeriodSeconds: 2},
	}.WithDefaults()

	ints := []struct {
		name      string
		got, want int
	}{
		{"replicas", *s.Replicas, 3},
		{"progressDeadlineSeconds", *s.ProgressDeadlineSeconds, 600},
		{"revisionHistoryLimit", *s.RevisionHistoryLimit, 10},
		{"terminationGracePeriodSeconds", *s.TerminationGracePeriodSeconds, 30},
		{"workload.port", s.Workload.Port, 8080},
		{"maxSurge", s.MaxSurgeCount(), 1},
		{"maxUnavailable", s.MaxUnavailableCount(), 0},
		{"liveness.periodSeconds", s.LivenessProbe.PeriodSeconds, 10},
		{"liveness.timeoutSeconds", s.LivenessProbe.TimeoutSeconds, 1},
		{"liveness.successThreshold", s.LivenessProbe.SuccessThreshold, 1},
		{"liveness.failureThreshold", s.LivenessProbe.FailureThreshold, 3},
		{"liveness.httpGet.port", s.LivenessProbe.HTTPGet.Port, 8080},
		{"readiness.periodSeconds", s.ReadinessProbe.PeriodSeconds, 2},
	}
	for _, tt := range ints {
		if tt.got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, tt.got, tt.want)
		}
	}
	if s.Strategy.Type != RollingUpdate || s.Strategy.RollingUpdate == nil {
		t.Errorf("strategy = %+v, want RollingUpdate with its sub-struct", s.Strategy)
	}
}

func TestAppSpec_AccessorsWithoutDefaults(t *testing.T) {
	var s AppSpec
	if s.ReplicaCount() != 3 || s.MaxSurgeCount() != 1 || s.MaxUnavailableCount() != 0 ||
		s.ProgressDeadline() != 10*time.Minute || s.MinReady() != 0 || s.GracePeriod() != 30*time.Second ||
		s.HistoryLimit() != 10 || s.StrategyType() != RollingUpdate {
		t.Errorf("zero AppSpec accessors do not return the defaults")
	}
	var p Probe
	if p.Period() != 10*time.Second || p.Timeout() != time.Second || p.InitialDelay() != 0 || p.Successes() != 1 || p.Failures() != 3 {
		t.Errorf("zero Probe accessors = %v %v %v %d %d, want 10s 1s 0s 1 3", p.Period(), p.Timeout(), p.InitialDelay(), p.Successes(), p.Failures())
	}
	var bg BlueGreenStrategy
	if !bg.AutoPromote() || bg.ScaleDownDelay() != 30*time.Second {
		t.Errorf("zero BlueGreenStrategy: autoPromote %v, scaleDownDelay %v; want true, 30s", bg.AutoPromote(), bg.ScaleDownDelay())
	}
	zero := 0
	if got := (AppSpec{Replicas: &zero}).ReplicaCount(); got != 0 {
		t.Errorf("ReplicaCount() with replicas 0 = %d, want 0", got)
	}
}

func TestDefaultCanarySteps(t *testing.T) {
	var weights []int
	var pauses []time.Duration
	for _, st := range DefaultCanarySteps() {
		switch {
		case st.SetWeight != nil:
			weights = append(weights, *st.SetWeight)
		case st.Pause != nil:
			pauses = append(pauses, st.Pause.Wait())
		}
	}
	if want := []int{5, 25, 50, 100}; !slices.Equal(weights, want) {
		t.Errorf("weights = %v, want %v", weights, want)
	}
	if want := []time.Duration{30 * time.Second, 30 * time.Second, 30 * time.Second}; !slices.Equal(pauses, want) {
		t.Errorf("pauses = %v, want %v", pauses, want)
	}
	a, b := DefaultCanarySteps(), DefaultCanarySteps()
	*a[0].SetWeight = 99
	if *b[0].SetWeight != 5 {
		t.Error("DefaultCanarySteps shares its steps between calls")
	}
}

// TestAppSpec_PercentRounding follows Kubernetes: maxSurge rounds up,
// maxUnavailable rounds down, both against the replica count.
func TestAppSpec_PercentRounding(t *testing.T) {
	tests := []struct {
		replicas                int
		surge, unavailable      *IntOrString
		wantSurge, wantUnavailb int
	}{
		{3, Percent(25), Percent(25), 1, 0},
		{4, Percent(25), Percent(25), 1, 1},
		{10, Percent(25), Percent(25), 3, 2},
		{10, Percent(33), Percent(33), 4, 3},
		{1, Percent(1), Percent(99), 1, 0},
		{100, Percent(1), Percent(99), 1, 99},
		{0, Percent(50), Percent(50), 0, 0},
		{5, Percent(100), Percent(100), 5, 5},
		{5, Percent(0), Percent(0), 0, 0},
		{7, Int(2), Int(1), 2, 1},
		{2, Percent(200), Percent(10), 4, 0},
	}
	for _, tt := range tests {
		name := tt.surge.String() + "/" + tt.unavailable.String() + " of " + Int(tt.replicas).String()
		t.Run(name, func(t *testing.T) {
			s := AppSpec{Replicas: &tt.replicas, Strategy: Strategy{RollingUpdate: &RollingUpdateStrategy{MaxSurge: tt.surge, MaxUnavailable: tt.unavailable}}}
			if got := s.MaxSurgeCount(); got != tt.wantSurge {
				t.Errorf("MaxSurgeCount() = %d, want %d", got, tt.wantSurge)
			}
			if got := s.MaxUnavailableCount(); got != tt.wantUnavailb {
				t.Errorf("MaxUnavailableCount() = %d, want %d", got, tt.wantUnavailb)
			}
		})
	}
}
