package promsource

import (
	"strings"
	"testing"
	"time"
)

func TestNew_badInput(t *testing.T) {
	for _, c := range []struct {
		name string
		opts Options
		want string
	}{
		{"no url", Options{}, `URL "": give Prometheus's base URL`},
		{"template", Options{URL: "http://p:9090", Queries: Queries{Requests: `sum(x{app="{{.App}"})`}}, "requests query"},
		{"unknown field", Options{URL: "http://p:9090", Queries: Queries{Errors: `x{app="{{.Application}}"}`}}, "errors query"},
		{"promql", Options{URL: "http://p:9090", Queries: Queries{Latency: `sum by (le (x{app="{{.App}}"})`}}, "latency query"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := New(c.opts)
			if err == nil || s != nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New: %v, %v; want an error with %q", s, err, c.want)
			}
		})
	}
}

func TestBuckets_cumulativeToPerBucket(t *testing.T) {
	vec := []sample{
		{map[string]string{"revision": "2", "le": "0.1"}, 5},
		{map[string]string{"revision": "2", "le": "0.2"}, 8},
		{map[string]string{"revision": "2", "le": "+Inf"}, 10},
		{map[string]string{"revision": "x", "le": "0.1"}, 99},
	}
	s := &Source{opts: Options{RevisionLabel: "revision"}}
	bounds, counts := buckets(vec, s.revision)
	if len(bounds) != 3 || bounds[0] != 100*time.Millisecond || bounds[1] != 200*time.Millisecond {
		t.Fatalf("bounds %v", bounds)
	}
	if c := counts[2]; len(c) != 3 || c[0] != 5 || c[1] != 3 || c[2] != 2 {
		t.Fatalf("counts %v, want [5 3 2]", c)
	}
	if len(counts) != 1 {
		t.Fatalf("a series without a revision number was counted: %v", counts)
	}
}

func TestRender_escapesValues(t *testing.T) {
	s, err := New(Options{URL: "http://p:9090"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := render(s.requests, `we"b`, "prod")
	if err != nil || !strings.Contains(got, `app="we\"b"`) {
		t.Fatalf("%s %v", got, err)
	}
}
