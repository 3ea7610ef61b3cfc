package spec

import (
	"slices"
	"testing"
	"time"
)

const releaseDoc = `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  # A rolling update ignores analysis; it is still accepted.
  analysis:
    maxUnhealthyPercent: 0
    maxErrorPercent: 2.5
    maxLatencyRatio: 1.5
    alpha: 0.5
    minRequests: 1
    disabled: [Memory, CPU]
environments:
  - name: dev
  - name: staging
    strategy: {type: Canary}
  - name: prod
    strategy:
      type: BlueGreen
      blueGreen:
        previewListen: 127.0.0.1:9083
        smokeTests:
          - {path: /health, expectBody: pass}
          - name: create
            method: POST
            path: /items
            body: '{"name": "x"}'
            expectStatus: 201
            timeoutSeconds: 3600
          - {command: [./smoke.sh, --fast], timeoutSeconds: 0}
`

func TestParse_AnalysisAndSmokeTests(t *testing.T) {
	app, err := Parse("gantry.yaml", []byte(releaseDoc))
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"dev", "staging", "prod"} {
		s := mustResolve(t, app, env)
		a := s.Analysis
		if a == nil {
			t.Fatalf("%s: analysis lost in Resolve", env)
		}
		if *a.MaxUnhealthyPercent != 0 || *a.MaxErrorPercent != 2.5 || *a.MaxLatencyRatio != 1.5 || *a.Alpha != 0.5 || *a.MinRequests != 1 ||
			!slices.Equal(a.Disabled, []string{"Memory", "CPU"}) {
			t.Errorf("%s: analysis = %+v", env, a)
		}
	}

	s := mustResolve(t, app, "prod")
	tests := s.Strategy.BlueGreen.SmokeTests
	type view struct {
		label, method string
		status        int
		timeout       time.Duration
		body, expect  string
		command       []string
	}
	want := []view{
		{"GET /health", "GET", 200, 10 * time.Second, "", "pass", nil},
		{"create", "POST", 201, time.Hour, `{"name": "x"}`, "", nil},
		{"./smoke.sh --fast", "GET", 200, 10 * time.Second, "", "", []string{"./smoke.sh", "--fast"}},
	}
	if len(tests) != len(want) {
		t.Fatalf("got %d smoke tests, want %d: %+v", len(tests), len(want), tests)
	}
	for i, w := range want {
		st := tests[i]
		got := view{st.Label(), st.HTTPMethod(), st.Status(), st.Timeout(), st.Body, st.ExpectBody, st.Command}
		if got.label != w.label || got.method != w.method || got.status != w.status || got.timeout != w.timeout ||
			got.body != w.body || got.expect != w.expect || !slices.Equal(got.command, w.command) {
			t.Errorf("smoke test %d = %+v, want %+v", i, got, w)
		}
	}

	t.Run("resolving does not change the app", func(t *testing.T) {
		s := mustResolve(t, app, "prod")
		*s.Analysis.Alpha = 0.2
		s.Analysis.Disabled[0] = "ErrorRate"
		s.Strategy.BlueGreen.SmokeTests[0].Path = "/changed"
		s.Strategy.BlueGreen.SmokeTests[2].Command[0] = "changed"
		again := mustResolve(t, app, "prod")
		bg := again.Strategy.BlueGreen
		if *again.Analysis.Alpha != 0.5 || again.Analysis.Disabled[0] != "Memory" || bg.SmokeTests[0].Path != "/health" || bg.SmokeTests[2].Command[0] != "./smoke.sh" {
			t.Errorf("a second Resolve saw the first one's changes: analysis %+v, smoke tests %+v", again.Analysis, bg.SmokeTests)
		}
	})
}

func TestParse_AnalysisNumbers(t *testing.T) {
	doc := `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy: {type: Canary}
  analysis: {maxErrorPercent: 100, maxLatencyRatio: 3, alpha: 1e-3}
environments: [{name: dev}]
`
	app, err := Parse("gantry.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	a := app.Spec.Analysis
	if *a.MaxErrorPercent != 100 || *a.MaxLatencyRatio != 3 || *a.Alpha != 0.001 || a.MinRequests != nil || a.Disabled != nil {
		t.Errorf("analysis = %+v, want whole numbers read as floats and unset fields nil", a)
	}
}

func TestApp_ValidateSmokeTests(t *testing.T) {
	app := &App{
		APIVersion: APIVersion, Kind: KindApp, Metadata: Metadata{Name: "api"},
		Spec: AppSpec{
			Workload: Workload{Command: "./server"},
			Strategy: Strategy{Type: BlueGreen, BlueGreen: &BlueGreenStrategy{SmokeTests: []SmokeTest{{Path: "/", Method: "Post"}}}},
		},
		Environments: []Environment{{Name: "dev"}},
	}
	err := app.Validate()
	if want := `spec.strategy.blueGreen.smokeTests[0].method: "Post" must be written in capitals: POST`; err == nil || err.Error() != want {
		t.Errorf("Validate() = %v, want %s", err, want)
	}
}

func TestSmokeTest_Accessors(t *testing.T) {
	tests := []struct {
		name    string
		test    SmokeTest
		label   string
		method  string
		status  int
		timeout time.Duration
	}{
		{"zero", SmokeTest{}, "", "GET", 200, 10 * time.Second},
		{"path", SmokeTest{Path: "/health"}, "GET /health", "GET", 200, 10 * time.Second},
		{"method and path", SmokeTest{Method: "HEAD", Path: "/", ExpectStatus: 204, TimeoutSeconds: 2}, "HEAD /", "HEAD", 204, 2 * time.Second},
		{"name wins", SmokeTest{Name: "home", Path: "/"}, "home", "GET", 200, 10 * time.Second},
		{"command", SmokeTest{Command: []string{"./smoke.sh", "-v"}, TimeoutSeconds: 60}, "./smoke.sh -v", "GET", 200, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.test.Label(); got != tt.label {
				t.Errorf("Label() = %q, want %q", got, tt.label)
			}
			if got := tt.test.HTTPMethod(); got != tt.method {
				t.Errorf("HTTPMethod() = %q, want %q", got, tt.method)
			}
			if got := tt.test.Status(); got != tt.status {
				t.Errorf("Status() = %d, want %d", got, tt.status)
			}
			if got := tt.test.Timeout(); got != tt.timeout {
				t.Errorf("Timeout() = %v, want %v", got, tt.timeout)
			}
		})
	}
}

func TestAnalysisChecks(t *testing.T) {
	want := []string{"UnhealthyInstances", "ErrorRate", "LatencyRatio", "Memory", "CPU", "Dependency",
		"ErrorTest", "LatencyTest", "ErrorEvidence", "LatencyEvidence"}
	if !slices.Equal(AnalysisChecks, want) {
		t.Errorf("AnalysisChecks = %v, want %v", AnalysisChecks, want)
	}
}
