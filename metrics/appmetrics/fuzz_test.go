package appmetrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// FuzzReexpose: whatever an instance serves, once parsed, re-exposing it
// (relabelled, from two instances, beside a third whose exposition gives
// the same names other types) never makes gantry's registry fail a
// Gather, which would fail gantry's whole /metrics.
func FuzzReexpose(f *testing.F) {
	f.Add(exposition)
	f.Add("go_x 1\nexported_go_x{a=\"b\"} 2\n# TYPE exported_exported_go_x gauge\nexported_exported_go_x 3\n")
	f.Add("x_total{app=\"a\",exported_app=\"b\",instance=\"c\",version=\"d\"} 1\n")
	f.Add("# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 2\ns_count 3\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n")
	f.Add("# HELP validations_total other help\n# TYPE validations_total gauge\nvalidations_total{le=\"x\"} 1\n")
	f.Fuzz(func(t *testing.T, body string) {
		fams, err := parse([]byte(body), "text/plain; version=0.0.4")
		if err != nil {
			return
		}
		other, err := parse([]byte(exposition+"# TYPE x_total gauge\nx_total 1\n"), "")
		if err != nil {
			t.Fatal(err)
		}
		s := New(Options{Reserved: func(name string) bool { return strings.HasPrefix(name, "go_") }})
		for i, fs := range [][][]*dto.MetricFamily{{fams}, {fams}, {other}} {
			tg := Target{App: "web", Env: "prod", Revision: i, Version: "v", Instance: string(rune('a' + i)), Addr: "x"}
			if _, refused := Bound(fs[0], Config{SeriesLimit: MaxSeriesLimit, LabelValueLimit: MaxSeriesLimit}); refused != nil {
				return
			}
			s.loops[tg] = &loop{t: tg, fams: Relabel(fs[0], tg, s.opts.Reserved), status: Status{At: time.Now(), Scrapes: 1}}
		}
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(s.Collector())
		if _, err := reg.Gather(); err != nil {
			t.Fatalf("gather of a parsed exposition failed: %v\n%s", err, body)
		}
	})
}
