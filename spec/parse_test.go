package spec

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParse_ReportsEveryError(t *testing.T) {
	_, err := ParseFile("testdata/many-errors.yaml")
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("ParseFile error = %v, want an ErrorList", err)
	}
	want := []struct {
		line     int
		path     string
		fragment string
	}{
		{1, "apiVersion", `"gantry.dev/v2" is not supported`},
		{4, "metadata.name", `such as "my-app"`},
		{6, "spec.replicas", "want a whole number"},
		{9, "spec.workload.args[1]", "did you mean {{.Port}}?"},
		{13, "spec.strategy.rollingUpdate.maxSurge", "neither a whole number nor a percentage"},
		{14, "spec.strategy.rollingUpdate.maxUnavailble", `did you mean "maxUnavailable"?`},
		{16, "spec.livenessProbe.httpGet.path", "must start with '/'"},
		{19, "environments[0].backend", `"docker" is not a backend`},
	}
	if len(list) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(list), len(want), err)
	}
	for i, w := range want {
		got := list[i]
		if got.File != "testdata/many-errors.yaml" || got.Line != w.line || got.Path != w.path || !strings.Contains(got.Message, w.fragment) {
			t.Errorf("error %d = %v\nwant line %d, path %s, containing %q", i, got, w.line, w.path, w.fragment)
		}
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) || !strings.HasPrefix(lines[0], "testdata/many-errors.yaml:1:1: apiVersion: ") {
		t.Errorf("Error() = %q, want one line per error, each starting file:line:column: path", err.Error())
	}
}

func TestParse_Example(t *testing.T) {
	app, err := ParseFile("../examples/gemini-api/gantry.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := app.EnvironmentNames(), []string{"development", "staging", "production"}; !slices.Equal(got, want) {
		t.Errorf("EnvironmentNames() = %v, want %v", got, want)
	}
	wantStrategy := map[string]StrategyType{"development": RollingUpdate, "staging": RollingUpdate, "production": BlueGreen}
	listens := map[string]bool{}
	for _, name := range app.EnvironmentNames() {
		s, err := app.Resolve(name)
		if err != nil {
			t.Fatal(err)
		}
		e, _ := app.Environment(name)
		if e.BackendName() != BackendLocal {
			t.Errorf("%s: backend %s, want local", name, e.BackendName())
		}
		listens[e.Proxy.Listen] = true
		if got := s.StrategyType(); got != wantStrategy[name] {
			t.Errorf("%s: strategy %s, want %s", name, got, wantStrategy[name])
		}
		if s.ReplicaCount() != 3 || s.MaxSurgeCount() != 1 || s.MaxUnavailableCount() != 0 {
			t.Errorf("%s: replicas/surge/unavailable = %d/%d/%d, want 3/1/0", name, s.ReplicaCount(), s.MaxSurgeCount(), s.MaxUnavailableCount())
		}
		r := s.Resources
		if r.Limits.MemoryBytes != 512<<20 || r.Limits.CPUMillis != 500 || r.Requests.MemoryBytes != 256<<20 || r.Requests.CPUMillis != 250 {
			t.Errorf("%s: resources = %+v, want limits 512Mi/500m, requests 256Mi/250m", name, r)
		}
		if s.LivenessProbe.HTTPGet.Path != "/health" || s.ReadinessProbe.HTTPGet.Path != "/ready" {
			t.Errorf("%s: probes %+v / %+v, want /health and /ready", name, s.LivenessProbe.HTTPGet, s.ReadinessProbe.HTTPGet)
		}
		w, err := s.Workload.Render(TemplateVars{Version: "v2", App: "gemini-api", Env: name, Instance: "gemini-api-1", Port: 41234, Revision: 2})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := w.Args, []string{"sample", "--port", "41234", "--version", "v2"}; w.Command != "./gantry" || !slices.Equal(got, want) {
			t.Errorf("%s: rendered %s %v, want ./gantry %v", name, w.Command, got, want)
		}
	}
	if len(listens) != 3 {
		t.Errorf("proxy listen addresses %v, want 3 distinct ones", listens)
	}
	prod := mustResolve(t, app, "production")
	var labels []string
	for _, st := range prod.Strategy.BlueGreen.SmokeTests {
		labels = append(labels, fmt.Sprintf("%s %s %s %d %q", st.Label(), st.HTTPMethod(), st.Path, st.Status(), st.ExpectBody))
	}
	if want := []string{`health GET /health 200 "pass"`, `home GET / 200 ""`}; !slices.Equal(labels, want) {
		t.Errorf("production smoke tests = %q, want %q", labels, want)
	}
	if a := prod.Analysis; a == nil || *a.MaxUnhealthyPercent != DefaultMaxUnhealthyPercent || *a.MaxErrorPercent != DefaultMaxErrorPercent ||
		*a.MaxLatencyRatio != DefaultMaxLatencyRatio || *a.Alpha != DefaultAlpha || *a.MinRequests != DefaultMinRequests || len(a.Disabled) != 0 {
		t.Errorf("production analysis = %+v, want the defaults written out", a)
	}
}

func TestParse_RoundTrip(t *testing.T) {
	app, err := ParseFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if app.Metadata.Name != "shop" || app.Metadata.Labels["app.kubernetes.io/part-of"] != "store" {
		t.Errorf("metadata = %+v", app.Metadata)
	}

	t.Run("development overrides replicas and merges env by name", func(t *testing.T) {
		s := mustResolve(t, app, "development")
		if got := s.ReplicaCount(); got != 1 {
			t.Errorf("ReplicaCount() = %d, want 1", got)
		}
		want := []EnvVar{{Name: "APP", Value: "{{.App}}"}, {Name: "LOG_LEVEL", Value: "debug"}, {Name: "DEBUG", Value: "1"}}
		if !slices.Equal(s.Workload.Env, want) {
			t.Errorf("env = %v, want %v", s.Workload.Env, want)
		}
		// 50% of 1 rounds up to 1; 25% of 1 rounds down to 0.
		if s.MaxSurgeCount() != 1 || s.MaxUnavailableCount() != 0 {
			t.Errorf("surge/unavailable = %d/%d, want 1/0", s.MaxSurgeCount(), s.MaxUnavailableCount())
		}
	})
	t.Run("staging merges resources field by field and replaces the strategy", func(t *testing.T) {
		s := mustResolve(t, app, "staging")
		r := s.Resources
		if r.Limits.Memory != "256Mi" || r.Limits.MemoryBytes != 256<<20 || r.Limits.CPU != "2" || r.Limits.CPUMillis != 2000 || r.Requests.CPUMillis != 100 {
			t.Errorf("resources = %+v, want limits 256Mi/2 and requests 128Mi/100m", r)
		}
		if s.StrategyType() != Canary || len(s.Strategy.Canary.Steps) != 3 || s.Strategy.RollingUpdate != nil {
			t.Fatalf("strategy = %+v, want the environment's 3-step canary", s.Strategy)
		}
		if got := s.Strategy.Canary.Steps[1].Pause.Wait(); got != time.Minute {
			t.Errorf("pause = %v, want 1m", got)
		}
		if s.ReplicaCount() != 4 {
			t.Errorf("ReplicaCount() = %d, want 4 from spec", s.ReplicaCount())
		}
	})
	t.Run("production blue-green keeps what it sets and defaults the rest", func(t *testing.T) {
		s := mustResolve(t, app, "production")
		bg := s.Strategy.BlueGreen
		if s.StrategyType() != BlueGreen || bg.AutoPromote() || bg.ScaleDownDelay() != 30*time.Second || bg.PreviewListen != "127.0.0.1:7103" {
			t.Errorf("blueGreen = %+v", bg)
		}
	})
	t.Run("base values pass through", func(t *testing.T) {
		s := mustResolve(t, app, "production")
		if s.ProgressDeadline() != 2*time.Minute || s.MinReady() != 10*time.Second || s.GracePeriod() != 0 || s.HistoryLimit() != 3 {
			t.Errorf("deadline/minReady/grace/history = %v/%v/%v/%d", s.ProgressDeadline(), s.MinReady(), s.GracePeriod(), s.HistoryLimit())
		}
		l := s.LivenessProbe
		if l.InitialDelay() != 5*time.Second || l.Period() != 20*time.Second || l.Timeout() != 3*time.Second || l.Successes() != 1 || l.Failures() != 5 {
			t.Errorf("liveness = %+v", l)
		}
		if l.HTTPGet.Port != 9091 || l.HTTPGet.Scheme != "HTTPS" || s.ReadinessProbe.HTTPGet.Port != 9090 {
			t.Errorf("probe ports: liveness %+v, readiness %+v; want 9091 HTTPS and the workload port 9090", l.HTTPGet, s.ReadinessProbe.HTTPGet)
		}
		base := app.Spec.WithDefaults()
		if base.MaxSurgeCount() != 2 || base.MaxUnavailableCount() != 1 {
			t.Errorf("surge/unavailable = %d/%d, want 50%% of 4 = 2 and 25%% of 4 = 1", base.MaxSurgeCount(), base.MaxUnavailableCount())
		}
	})
	t.Run("canary without steps takes the default steps", func(t *testing.T) {
		s := mustResolve(t, app, "canary-defaults")
		if got := len(s.Strategy.Canary.Steps); got != len(DefaultCanarySteps()) {
			t.Errorf("%d steps, want the %d default steps", got, len(DefaultCanarySteps()))
		}
	})
	t.Run("resolving does not change the app", func(t *testing.T) {
		s := mustResolve(t, app, "development")
		s.Workload.Env[0].Value = "changed"
		*s.Replicas = 99
		s.Strategy.RollingUpdate.MaxSurge.IntVal = 99
		again := mustResolve(t, app, "development")
		if again.Workload.Env[0].Value != "{{.App}}" || again.ReplicaCount() != 1 || again.MaxSurgeCount() != 1 {
			t.Errorf("a second Resolve saw the first one's changes: %+v", again)
		}
	})
	t.Run("unknown environment", func(t *testing.T) {
		_, err := app.Resolve("qa")
		if !errors.Is(err, ErrUnknownEnvironment) || !strings.Contains(err.Error(), "development, staging, production") {
			t.Errorf("Resolve(qa) error = %v, want ErrUnknownEnvironment listing the known ones", err)
		}
	})
}

func TestParse_AnchorsAndMergeKeys(t *testing.T) {
	doc := `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  livenessProbe: &probe
    httpGet: {path: /health}
    periodSeconds: 7
  readinessProbe:
    <<: *probe
    periodSeconds: 3
environments: [{name: dev}]
`
	app, err := Parse("gantry.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	l, r := app.Spec.LivenessProbe, app.Spec.ReadinessProbe
	if l.PeriodSeconds != 7 || r.PeriodSeconds != 3 || r.HTTPGet == nil || r.HTTPGet.Path != "/health" {
		t.Errorf("liveness %+v, readiness %+v; want readiness to take httpGet from the anchor and keep its own period", l, r)
	}
}

func TestParse_TrailingEmptyDocument(t *testing.T) {
	doc := "---\napiVersion: gantry.dev/v1\nkind: App\nmetadata: {name: api}\nspec: {workload: {command: ./server}}\nenvironments: [{name: dev}]\n---\n"
	if _, err := Parse("gantry.yaml", []byte(doc)); err != nil {
		t.Errorf("Parse() = %v, want an empty trailing document ignored", err)
	}
}

func TestParse_NumericQuantities(t *testing.T) {
	doc := `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  resources:
    requests: {cpu: 0.5, memory: 1000000}
    limits: {cpu: 2}
environments: [{name: dev}]
`
	app, err := Parse("gantry.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	r := app.Spec.Resources
	if r.Requests.CPUMillis != 500 || r.Requests.MemoryBytes != 1000000 || r.Limits.CPUMillis != 2000 {
		t.Errorf("resources = %+v, want requests 500m/1000000 and limits 2000m", r)
	}
}

func TestApp_Validate(t *testing.T) {
	two := 2
	app := &App{
		APIVersion: APIVersion, Kind: KindApp, Metadata: Metadata{Name: "api"},
		Spec: AppSpec{
			Workload:  Workload{Command: "./server"},
			Resources: Resources{Limits: ResourceList{Memory: "64Mi"}},
		},
		Environments: []Environment{{Name: "dev", Replicas: &two}, {Name: "Prod"}},
	}
	if err := app.Validate(); err == nil || !strings.Contains(err.Error(), "environments[1].name: ") {
		t.Errorf("Validate() = %v, want an error about environments[1].name", err)
	}
	app.Environments[1].Name = "prod"
	if err := app.Validate(); err != nil {
		t.Fatalf("Validate() = %v, want nil", err)
	}
	if got := app.Spec.Resources.Limits.MemoryBytes; got != 64<<20 {
		t.Errorf("MemoryBytes = %d after Validate, want %d", got, 64<<20)
	}
	lost := ResourceList{Memory: "64Mi", CPU: "250m"}
	if got := lost.Parsed(); got.MemoryBytes != 64<<20 || got.CPUMillis != 250 {
		t.Errorf("Parsed() = %+v, want 64Mi and 250m filled in", got)
	}
}

func TestParseFile_Missing(t *testing.T) {
	_, err := ParseFile("testdata/no-such-file.yaml")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ParseFile error = %v, want one wrapping os.ErrNotExist", err)
	}
}

func mustResolve(t *testing.T, app *App, env string) AppSpec {
	t.Helper()
	s, err := app.Resolve(env)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
