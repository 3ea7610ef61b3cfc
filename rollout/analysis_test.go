package rollout

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/analysis"
	"github.com/gantry-dev/gantry/spec"
)

func TestFailingDependencies(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"empty body", "", nil},
		{"plain text body", "OK", nil},
		{"broken json", `{"checks": {`, nil},
		{"no checks", `{"status": "pass"}`, nil},
		{"all pass or warn", `{"status": "warn", "checks": {
			"database:connection": [{"status": "pass"}],
			"cache:hits": [{"status": "warn", "output": "hit rate 40%"}]}}`, nil},
		{"one fail with output", `{"status": "fail", "checks": {
			"database:connection": [{"status": "fail", "output": "dial tcp 127.0.0.1:5432: connection refused"}],
			"cache:hits": [{"status": "pass"}]}}`,
			[]string{"database:connection: dial tcp 127.0.0.1:5432: connection refused"}},
		{"fail without output", `{"checks": {"queue": [{"status": "fail"}]}}`, []string{"queue: "}},
		{"named once when several of its checks fail", `{"checks": {"database:connection": [
			{"componentId": "primary", "status": "pass"},
			{"componentId": "replica-1", "status": "fail", "output": "timeout"},
			{"componentId": "replica-2", "status": "fail", "output": "refused"}]}}`,
			[]string{"database:connection: timeout"}},
		{"several failing dependencies", `{"checks": {
			"database": [{"status": "fail"}], "queue": [{"status": "fail", "output": "full"}], "cache": [{"status": "pass"}]}}`,
			[]string{"database: ", "queue: full"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, d := range failingDependencies(tt.body) {
				got = append(got, d.name+": "+d.output)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("failingDependencies = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWindow(t *testing.T) {
	bounds := []time.Duration{10 * time.Millisecond, 100 * time.Millisecond, time.Second}
	tests := []struct {
		name      string
		cur, prev RevisionMetrics
		want      analysis.Window
	}{
		{"no traffic", RevisionMetrics{}, RevisionMetrics{}, analysis.Window{}},
		{"first sample against nothing",
			RevisionMetrics{Requests: 100, Errors: 3},
			RevisionMetrics{},
			analysis.Window{Requests: 100, Errors: 3}},
		{"difference of two samples",
			RevisionMetrics{Requests: 1500, Errors: 12},
			RevisionMetrics{Requests: 1000, Errors: 10},
			analysis.Window{Requests: 500, Errors: 2}},
		{"requests whose client went away are left out",
			RevisionMetrics{Requests: 1500, Errors: 12, ClientClosed: 30},
			RevisionMetrics{Requests: 1000, Errors: 10, ClientClosed: 20},
			analysis.Window{Requests: 490, Errors: 2}},
		{"never fewer than zero requests",
			RevisionMetrics{Requests: 1005, ClientClosed: 40},
			RevisionMetrics{Requests: 1000, ClientClosed: 20},
			analysis.Window{Requests: 0}},
		{"counters restarted: the current sample is the interval",
			RevisionMetrics{Requests: 40, Errors: 1, ClientClosed: 2},
			RevisionMetrics{Requests: 1000, Errors: 10, ClientClosed: 20},
			analysis.Window{Requests: 38, Errors: 1}},
		{"a new origin (the data plane restarted and already counts more): the current sample is the interval",
			RevisionMetrics{Requests: 1200, Errors: 1, Origin: "b"},
			RevisionMetrics{Requests: 1000, Errors: 10, Origin: "a"},
			analysis.Window{Requests: 1200, Errors: 1}},
		{"the same origin: a difference",
			RevisionMetrics{Requests: 1200, Errors: 11, Origin: "a"},
			RevisionMetrics{Requests: 1000, Errors: 10, Origin: "a"},
			analysis.Window{Requests: 200, Errors: 1}},
		{"errors counter behind: clamped at zero",
			RevisionMetrics{Requests: 1100, Errors: 5},
			RevisionMetrics{Requests: 1000, Errors: 10},
			analysis.Window{Requests: 100}},
		{"latency buckets differenced",
			RevisionMetrics{Requests: 160, LatencyBounds: bounds, LatencyCounts: []uint64{120, 30, 10}},
			RevisionMetrics{Requests: 100, LatencyBounds: bounds, LatencyCounts: []uint64{80, 15, 5}},
			analysis.Window{Requests: 60, Latency: analysis.Buckets{UpperBounds: bounds, Counts: []uint64{40, 15, 5}}}},
		{"latency buckets against a sample without them",
			RevisionMetrics{Requests: 160, LatencyBounds: bounds, LatencyCounts: []uint64{120, 30, 10}},
			RevisionMetrics{Requests: 100},
			analysis.Window{Requests: 60, Latency: analysis.Buckets{UpperBounds: bounds, Counts: []uint64{120, 30, 10}}}},
		{"latency buckets after a restart",
			RevisionMetrics{Requests: 6, LatencyBounds: bounds, LatencyCounts: []uint64{4, 2, 0}},
			RevisionMetrics{Requests: 100, LatencyBounds: bounds, LatencyCounts: []uint64{80, 15, 5}},
			analysis.Window{Requests: 6, Latency: analysis.Buckets{UpperBounds: bounds, Counts: []uint64{4, 2, 0}}}},
		{"bounds and counts of different lengths: no latency",
			RevisionMetrics{Requests: 160, LatencyBounds: bounds, LatencyCounts: []uint64{120, 30}},
			RevisionMetrics{Requests: 100},
			analysis.Window{Requests: 60}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := window(tt.cur, tt.prev)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("window = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestWindow_DoesNotAliasCounts checks that a window's latency counts are
// its own: the proxy's cumulative arrays change under it.
func TestWindow_DoesNotAliasCounts(t *testing.T) {
	bounds := []time.Duration{time.Millisecond, time.Second}
	cur := RevisionMetrics{Requests: 10, LatencyBounds: bounds, LatencyCounts: []uint64{7, 3}}
	w := window(cur, RevisionMetrics{})
	cur.LatencyCounts[0] = 1000
	if got := w.Latency.(analysis.Buckets).Counts[0]; got != 7 {
		t.Errorf("window's first bucket = %d after the source changed, want 7", got)
	}
}

func TestAnalysisConfig(t *testing.T) {
	intp := func(v int) *int { return &v }
	floatp := func(v float64) *float64 { return &v }
	def := analysis.DefaultConfig()

	t.Run("nil keeps the defaults", func(t *testing.T) {
		got, err := analysisConfig(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, def) {
			t.Errorf("config = %+v, want the defaults %+v", got, def)
		}
	})
	t.Run("empty keeps the defaults", func(t *testing.T) {
		got, err := analysisConfig(&spec.AnalysisSpec{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, def) {
			t.Errorf("config = %+v, want the defaults %+v", got, def)
		}
	})
	t.Run("every field mapped", func(t *testing.T) {
		got, err := analysisConfig(&spec.AnalysisSpec{
			MaxUnhealthyPercent: intp(25),
			MaxErrorPercent:     floatp(2.5),
			MaxLatencyRatio:     floatp(1.5),
			Alpha:               floatp(0.05),
			MinRequests:         intp(2000),
			ErrorMarginPercent:  floatp(50),
			LatencyMarginMs:     floatp(20),
			WarmUpRequests:      intp(0),
			WarmUpSeconds:       floatp(1.5),
			Disabled:            []string{"Memory", "LatencyTest"},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := def
		want.MaxUnhealthyShare = 0.25
		want.MaxErrorRate = 0.025
		want.MaxLatencyRatio = 1.5
		want.Alpha = 0.05
		want.MinRequests = 2000
		want.ErrorMargin = 0.5
		want.LatencyMarginAbs = 20 * time.Millisecond
		want.WarmUpRequests = -1 // zero in the spec: none
		want.WarmUp = 1500 * time.Millisecond
		want.Disabled = []analysis.Trigger{analysis.Memory, analysis.LatencyTest}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("config = %+v\nwant     %+v", got, want)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("mapped config does not validate: %v", err)
		}
	})
	t.Run("every check name of the spec is known", func(t *testing.T) {
		names := []string{"UnhealthyInstances", "ErrorRate", "LatencyRatio", "Memory", "CPU", "Dependency",
			"ErrorTest", "LatencyTest", "ErrorEvidence", "LatencyEvidence"}
		got, err := analysisConfig(&spec.AnalysisSpec{Disabled: names})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Disabled) != len(names) {
			t.Errorf("%d checks disabled, want %d", len(got.Disabled), len(names))
		}
		for i, tr := range got.Disabled {
			if tr.String() != names[i] {
				t.Errorf("disabled[%d] = %s, want %s", i, tr, names[i])
			}
		}
	})
	t.Run("unknown check name", func(t *testing.T) {
		_, err := analysisConfig(&spec.AnalysisSpec{Disabled: []string{"ErrorRate", "Latency"}})
		if err == nil {
			t.Fatal("want an error for an unknown check name")
		}
		for _, s := range []string{"spec.analysis.disabled", `"Latency"`} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error %q does not mention %s", err, s)
			}
		}
	})
}

func TestGroupInstances(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	target := Revision{App: "web", Env: "prod", Number: 2, Spec: spec.AppSpec{
		Resources: spec.Resources{Limits: spec.ResourceList{Memory: "512Mi", CPU: "500m"}},
	}}
	dbDown := `{"status": "fail", "checks": {"database:connection": [{"status": "fail", "output": "connection refused"}]}}`
	queueDown := `{"status": "fail", "checks": {"queue": [{"status": "fail"}]}}`
	instances := []Instance{
		// Stable instances and terminating canaries are not counted.
		{ID: "s-1", Revision: 1, State: BackingOff, RSSBytes: 1 << 40, Health: queueDown},
		{ID: "c-old", Revision: 2, State: Terminating, RSSBytes: 1 << 40, CPUMillis: 9000, Health: queueDown},
		// Healthy: ready; still starting, never ready; crashing before it
		// was ever ready (a crash loop is CheckHealth's, not the analysis').
		{ID: "c-1", Revision: 2, State: Running, Ready: true, ReadySince: t0.Add(3 * time.Second), RSSBytes: 100 << 20, CPUMillis: 120, Health: dbDown},
		{ID: "c-7", Revision: 2, State: Running, Ready: true, ReadySince: t0, CPUMillis: 10},
		{ID: "c-2", Revision: 2, State: Starting, RSSBytes: 300 << 20, CPUMillis: 80},
		{ID: "c-3", Revision: 2, State: Running, Ready: false, CPUMillis: 450},
		{ID: "c-6", Revision: 2, State: BackingOff, Restarts: 1},
		// Unhealthy: it served once, then crashed or lost readiness.
		{ID: "c-4", Revision: 2, State: BackingOff, Restarts: 1, Health: dbDown},
		{ID: "c-5", Revision: 2, State: Running, Ready: false},
	}
	everReady := map[string]bool{"c-1": true, "c-4": true, "c-5": true}

	got := groupInstances(instances, target, GroupPrimary, everReady)
	want := analysis.Instances{
		Total: 7, Unhealthy: 2, Ready: 2, NewestReady: t0.Add(3 * time.Second),
		MaxRSSBytes: 300 << 20, MemLimitBytes: 512 << 20,
		MaxCPUMillis: 450, CPULimitMillis: 500,
		DependencyFailures: []string{"database:connection (connection refused)"}, HealthReported: 2,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("groupInstances = %+v\nwant            %+v", got, want)
	}

	t.Run("no limits, no instances", func(t *testing.T) {
		got := groupInstances(nil, Revision{Number: 2}, GroupPrimary, map[string]bool{})
		if !reflect.DeepEqual(got, analysis.Instances{}) {
			t.Errorf("groupInstances = %+v, want zero", got)
		}
	})
	t.Run("dependencies sorted and named once", func(t *testing.T) {
		got := groupInstances([]Instance{
			{ID: "a", Revision: 2, State: Running, Ready: true, Health: queueDown},
			{ID: "b", Revision: 2, State: Running, Ready: true, Health: dbDown},
			{ID: "c", Revision: 2, State: Running, Ready: true, Health: queueDown},
			{ID: "d", Revision: 2, State: Running, Ready: true,
				Health: `{"checks": {"database:connection": [{"status": "fail", "output": "timeout"}]}}`},
		}, Revision{Number: 2}, GroupPrimary, map[string]bool{})
		want := []string{"database:connection (connection refused)", "queue"}
		if !slices.Equal(got.DependencyFailures, want) {
			t.Errorf("dependency failures = %q, want %q", got.DependencyFailures, want)
		}
		if got.Unhealthy != 0 {
			t.Errorf("unhealthy = %d, want 0: a failing dependency alone is the Dependency check's", got.Unhealthy)
		}
	})
}
