package storetest

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/analysis"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// zone is a non-UTC zone: stores must hand times back in UTC.
var zone = time.FixedZone("UTC+2", 2*60*60)

// at returns a time i seconds into the suite's day, with nanoseconds that
// the store truncates and in a zone it converts.
func at(i int) time.Time {
	return time.Date(2026, 5, 20, 10, 0, 0, 123456789, zone).Add(time.Duration(i) * time.Second)
}

func ptr[T any](v T) *T { return &v }

// fullSpec sets every field of an AppSpec, including the parsed resource
// fields that are not stored.
func fullSpec() spec.AppSpec {
	probe := &spec.Probe{
		HTTPGet:             &spec.HTTPGetAction{Path: "/healthz", Port: 8081, Scheme: "HTTP"},
		InitialDelaySeconds: 1, PeriodSeconds: 2, TimeoutSeconds: 3, SuccessThreshold: 4, FailureThreshold: 5,
	}
	return spec.AppSpec{
		Replicas: ptr(3),
		Workload: spec.Workload{
			Command:    "./server",
			Args:       []string{"--port", "{{.Port}}", "--version={{.Version}}"},
			Env:        []spec.EnvVar{{Name: "MODE", Value: "canary"}, {Name: "EMPTY", Value: ""}},
			WorkingDir: "/srv/app",
			Image:      "registry.example/app:{{.Version}}",
			Port:       8080,
		},
		Resources: spec.Resources{
			Requests: spec.ResourceList{Memory: "256Mi", CPU: "250m", MemoryBytes: 256 << 20, CPUMillis: 250},
			Limits:   spec.ResourceList{Memory: "1Gi", CPU: "2", MemoryBytes: 1 << 30, CPUMillis: 2000},
		},
		LivenessProbe:  probe,
		ReadinessProbe: &spec.Probe{HTTPGet: &spec.HTTPGetAction{Path: "/ready"}},
		Strategy: spec.Strategy{
			Type:          spec.Canary,
			RollingUpdate: &spec.RollingUpdateStrategy{MaxSurge: spec.Percent(25), MaxUnavailable: spec.Int(0)},
			Canary: &spec.CanaryStrategy{Steps: []spec.CanaryStep{
				{SetWeight: ptr(5)},
				{Pause: &spec.PauseStep{Duration: "5m"}},
				{SetWeight: ptr(50)},
				{Pause: &spec.PauseStep{}},
			}},
			BlueGreen: &spec.BlueGreenStrategy{PreviewListen: "127.0.0.1:9090", AutoPromotion: ptr(false), ScaleDownDelaySeconds: ptr(0)},
		},
		MinReadySeconds:               10,
		ProgressDeadlineSeconds:       ptr(600),
		RevisionHistoryLimit:          ptr(10),
		TerminationGracePeriodSeconds: ptr(30),
	}
}

// fullApp sets every field of an AppRecord.
func fullApp(name string) rollout.AppRecord {
	return rollout.AppRecord{
		Name: name,
		Spec: spec.App{
			APIVersion: spec.APIVersion,
			Kind:       spec.KindApp,
			Metadata:   spec.Metadata{Name: name, Labels: map[string]string{"team": "payments", "tier": "1"}},
			Spec:       fullSpec(),
			Environments: []spec.Environment{
				{Name: "staging", Backend: "local", Proxy: spec.ProxyConfig{Listen: "127.0.0.1:0", StickyCookie: "gantry"}},
				{
					Name: "production", Backend: "kubernetes", Replicas: ptr(10),
					Env:       []spec.EnvVar{{Name: "MODE", Value: "prod"}},
					Resources: &spec.Resources{Limits: spec.ResourceList{Memory: "2Gi", MemoryBytes: 2 << 30}},
					Strategy:  &spec.Strategy{Type: spec.BlueGreen},
				},
			},
		},
		UpdatedAt: at(0),
	}
}

func newRevision(app, env, version string) rollout.Revision {
	return rollout.Revision{App: app, Env: env, Version: version, Spec: fullSpec(), CreatedAt: at(1)}
}

// fullRollout sets every field a caller sets on a new rollout.
func fullRollout(app, env string) rollout.Rollout {
	return rollout.Rollout{
		App: app, Env: env,
		Strategy:     spec.Canary,
		FromRevision: 1, ToRevision: 2,
		Phase:          rollout.Progressing,
		Step:           3,
		StepStartedAt:  at(2),
		LastProgressAt: at(3),
		Reason:         "StepStarted",
		Message:        "canary at 5% for 5m",
		Details:        &rollout.Details{Step: 1, Why: "ship it"},
		Cause:          rollout.ReasonRolloutCreated,
		Actor:          "cli",
		CreatedAt:      at(4),
		UpdatedAt:      at(5),
		FinishedAt:     at(6),
	}
}

func newEvent(app, env string, rolloutID int64, i int) rollout.Event {
	return rollout.Event{
		Time: at(i), App: app, Env: env, RolloutID: rolloutID,
		Type: rollout.Warning, Reason: "ErrorTest", From: rollout.Progressing, To: rollout.RollingBack,
		Message: "Progressing -> RollingBack: e-value 48.2 ≥ 40", Actor: "gantry",
		Details: &rollout.Details{
			Analysis: []analysis.Reason{{Trigger: analysis.ErrorTest, Fired: true, Observed: 48.2, Threshold: 40, Message: "e-value 48.2 ≥ 40"}},
			Backup:   &rollout.DatabaseBackup{ID: "b-1", SizeBytes: 12, Duration: time.Second},
		},
	}
}

// stored returns v as a store gives it back: JSON round trip for the spec
// snapshots, times truncated to Precision and in UTC.
func stored[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %T: %v", v, err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode %T: %v", v, err)
	}
	for _, p := range timesOf(&out) {
		*p = p.Truncate(Precision).UTC()
	}
	return out
}

// timesOf returns pointers to v's time fields.
func timesOf(v any) []*time.Time {
	switch v := v.(type) {
	case *rollout.AppRecord:
		return []*time.Time{&v.UpdatedAt}
	case *rollout.Revision:
		return []*time.Time{&v.CreatedAt}
	case *rollout.Rollout:
		return []*time.Time{&v.StepStartedAt, &v.LastProgressAt, &v.CreatedAt, &v.UpdatedAt, &v.FinishedAt}
	case *rollout.Event:
		return []*time.Time{&v.Time}
	}
	panic("storetest: no time fields known for " + reflect.TypeOf(v).String())
}

// same fails t unless got equals want: times compared with time.Equal and
// required to be in UTC, everything else with reflect.DeepEqual.
func same[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	gt, wt := timesOf(&got), timesOf(&want)
	for i := range gt {
		if !gt[i].Equal(*wt[i]) {
			t.Errorf("%s: time field %d = %v, want %v", what, i, *gt[i], *wt[i])
		}
		if !gt[i].IsZero() && gt[i].Location() != time.UTC {
			t.Errorf("%s: time field %d = %v is in %v, want UTC", what, i, *gt[i], gt[i].Location())
		}
		*gt[i], *wt[i] = time.Time{}, time.Time{}
	}
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", "  ")
		wj, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("%s:\ngot  %s\nwant %s", what, gj, wj)
	}
}
