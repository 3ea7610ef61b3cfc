package spec

import (
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/metrics/appmetrics"
)

const scrapeDoc = `apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
  workload: {command: ./server}
  metrics:
    scrape:
      interval: 5s
      seriesLimit: 500
environments: [{name: prod}]
`

func TestParse_metricsScrape(t *testing.T) {
	app, err := Parse("app.yaml", []byte(scrapeDoc))
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := app.Resolve("prod")
	if err != nil {
		t.Fatal(err)
	}
	got, ok := resolved.Metrics.ScrapeConfig()
	want := appmetrics.Config{Path: "/metrics", Interval: 5 * time.Second, Timeout: 5 * time.Second, SeriesLimit: 500, LabelValueLimit: 100}
	if !ok || got != want {
		t.Fatalf("scrape config %+v (ok %v), want %+v", got, ok, want)
	}
	if _, ok := (&MetricsSpec{}).ScrapeConfig(); ok {
		t.Error("a metrics spec without scrape asks for a scrape")
	}
	for _, tc := range []struct {
		name, old, new string
		line           int
		path, fragment string
	}{
		{"not a duration", "interval: 5s", "interval: 5 seconds", 8, "spec.metrics.scrape.interval", "not a duration"},
		{"interval too short", "interval: 5s", "interval: 10ms", 8, "spec.metrics.scrape.interval", "from 100ms to 1h"},
		{"timeout over the interval", "interval: 5s", "interval: 5s\n      timeout: 6s", 9, "spec.metrics.scrape.timeout", "from 1ms to 5s"},
		{"series unbounded", "seriesLimit: 500", "seriesLimit: 1000000", 9, "spec.metrics.scrape.seriesLimit", "from 1 to 10000"},
		{"label values over series", "seriesLimit: 500", "seriesLimit: 50\n      labelValueLimit: 60", 10, "spec.metrics.scrape.labelValueLimit", "from 1 to the series limit, 50"},
		{"path not a path", "interval: 5s", "interval: 5s\n      path: http://other/metrics", 9, "spec.metrics.scrape.path", "starting with /"},
		{"unknown field", "seriesLimit: 500", "seriesLimits: 500", 9, "spec.metrics.scrape.seriesLimits", "seriesLimit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantOneFieldError(t, strings.Replace(scrapeDoc, tc.old, tc.new, 1), tc.line, tc.path, tc.fragment)
		})
	}
}
