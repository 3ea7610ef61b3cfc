package pipeline

import (
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/spec"
)

func TestPlan(t *testing.T) {
	f := false
	app := &spec.App{Metadata: spec.Metadata{Name: "shop"}, Environments: []spec.Environment{
		{Name: "dev"},
		{Name: "staging", Strategy: &spec.Strategy{Type: spec.BlueGreen, BlueGreen: &spec.BlueGreenStrategy{
			AutoPromotion: &f, SmokeTests: []spec.SmokeTest{{Path: "/"}}}},
			Policy: &spec.EnvironmentPolicy{PerfTest: &spec.PerfTest{}}},
		{Name: "production", Policy: &spec.EnvironmentPolicy{Approval: &spec.ApprovalPolicy{}}},
		{Name: "eu"},
	}}
	stages, err := Plan(app, func(env string) bool { return env == "eu" })
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range stages {
		got = append(got, s.Name())
	}
	want := "dev/deploy staging/deploy staging/smoke staging/perf staging/promote production/approval production/deploy eu/approval eu/deploy"
	if strings.Join(got, " ") != want {
		t.Errorf("stages = %s\nwant     %s", strings.Join(got, " "), want)
	}
}

func TestJudgePerf(t *testing.T) {
	tests := []struct {
		name     string
		r        PerfResult
		passed   bool
		fragment string
	}{
		{"3x slower", PerfResult{Requests: 100, NewP95Ms: 60, StableP95Ms: 20, Ratio: 3, MaxRatio: 2}, false, "3.00× the stable revision's 20.0 ms, above the 2.0× limit"},
		{"as fast", PerfResult{Requests: 100, NewP95Ms: 21, StableP95Ms: 20, Ratio: 1.05, MaxRatio: 2}, true, "1.05×"},
		{"at the limit", PerfResult{Requests: 100, NewP95Ms: 40, StableP95Ms: 20, Ratio: 2, MaxRatio: 2}, true, ""},
		{"errors", PerfResult{Requests: 100, Errors: 3, Ratio: 1, MaxRatio: 2}, false, "failed 3 of 100"},
		{"no answers", PerfResult{MaxRatio: 2}, false, "answered no request"},
		{"no stable", PerfResult{Requests: 10, NewP95Ms: 5, MaxRatio: 2}, true, "no stable revision"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := JudgePerf(tc.r)
			if v.Passed != tc.passed || !strings.Contains(v.Reason, tc.fragment) {
				t.Errorf("JudgePerf = %v %q, want %v containing %q", v.Passed, v.Reason, tc.passed, tc.fragment)
			}
		})
	}
}
