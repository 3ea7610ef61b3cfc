package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/server"
)

// scrapeSpec is appSpec with spec.metrics.scrape (the sample's /metrics,
// every 200ms) and the fields in extra.
func scrapeSpec(extra string) string {
	return strings.Replace(appSpec("127.0.0.1:0", 60), "  progressDeadlineSeconds:",
		"  metrics: {scrape: {interval: 200ms"+extra+"}}\n  progressDeadlineSeconds:", 1)
}

// TestAppMetrics_reexposedWithTargetLabels: gantry scrapes the sample's
// own /metrics on each instance and serves them on its /metrics with app,
// env, revision, version and instance, the sample's own version label as
// exported_version, and a name gantry records itself renamed.
func TestAppMetrics_reexposedWithTargetLabels(t *testing.T) {
	e := startServerWith(t, scrapeSpec(""))
	_, stop := e.load(t)
	defer stop()
	var mfs map[string]*dto.MetricFamily
	waitFor(t, 30*time.Second, "validations_total of 3 instances with passed validations", func() bool {
		mfs = scrape(t, e)
		n := 0
		for _, m := range mfs["validations_total"].GetMetric() {
			if label(m, "result") == "passed" && m.GetCounter().GetValue() > 0 {
				n++
			}
		}
		return n == 3
	})
	instances := map[string]bool{}
	for _, in := range e.srv.Instances("web", "prod") {
		instances[in.ID] = true
	}
	for _, m := range mfs["validations_total"].GetMetric() {
		if label(m, "app") != "web" || label(m, "env") != "prod" || label(m, "revision") != "1" || label(m, "version") != "v1" ||
			label(m, "exported_version") != "v1" || !instances[label(m, "instance")] {
			t.Errorf("validations_total labels %v, want app web, env prod, revision 1, version v1, exported_version v1, an instance of %v", m.GetLabel(), instances)
		}
	}
	if mfs["exported_http_requests_total"] == nil {
		t.Error("the sample's http_requests_total (a name gantry records itself) is not re-exposed as exported_http_requests_total")
	}
	for _, m := range mfs["http_requests_total"].GetMetric() {
		if label(m, "instance") != "" {
			t.Errorf("an instance's series is under the name gantry records: %v", m.GetLabel())
		}
	}
	up := 0
	for _, m := range mfs["gantry_instance_scrape_up"].GetMetric() {
		if m.GetGauge().GetValue() == 1 {
			up++
		}
	}
	if up != 3 {
		t.Errorf("gantry_instance_scrape_up: %d instances up, want 3", up)
	}
	// The status API gives each instance's last scrape.
	scrapes := waitScrapes(t, e, "3 instances scraped without error", func(sc api.ScrapeStatus) bool {
		return sc.LastError == nil && sc.Series > 0 && !sc.LastScrape.IsZero()
	})
	for _, sc := range scrapes {
		if !instances[sc.Instance] || sc.Revision != 1 || sc.Scrapes < 1 || !strings.HasSuffix(sc.URL, "/metrics") {
			t.Errorf("scrape status %+v, want an instance of revision 1 of %v", sc, instances)
		}
	}
}

// waitScrapes waits until the status API of web/prod lists 3 scrapes
// that all pass ok, and returns them.
func waitScrapes(t *testing.T, e *env, what string, ok func(api.ScrapeStatus) bool) []api.ScrapeStatus {
	t.Helper()
	var out []api.ScrapeStatus
	waitFor(t, 30*time.Second, what, func() bool {
		st, err := e.c.Status(context.Background(), "web", "prod")
		if err != nil {
			t.Fatal(err)
		}
		out = out[:0]
		for _, rs := range st.Revisions {
			for _, sc := range rs.Scrapes {
				if ok(sc) {
					out = append(out, sc)
				}
			}
		}
		return len(out) == 3
	})
	return out
}

// TestAppMetrics_seriesLimitRefusesTheScrape: the sample exports more
// series than seriesLimit 1 (before any request: validations_total's
// passed and failed): nothing of it is exposed, the refused series are
// counted, and a ScrapeFailed event gives the typed facts.
func TestAppMetrics_seriesLimitRefusesTheScrape(t *testing.T) {
	e := startServerWith(t, scrapeSpec(", seriesLimit: 1, labelValueLimit: 1"))
	ctx := context.Background()
	var facts *rollout.ScrapeFacts
	// Under load a scrape may also time out first: wait for the refusal.
	waitFor(t, 30*time.Second, "a ScrapeFailed event refusing TooManySeries", func() bool {
		evs, err := e.c.Events(ctx, "web", "prod", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Reason == rollout.ReasonScrapeFailed && ev.Details != nil && ev.Details.Scrape != nil && ev.Details.Scrape.Refusal == "TooManySeries" {
				facts = ev.Details.Scrape
				return true
			}
		}
		return false
	})
	if facts.Refusal != "TooManySeries" || facts.Limit != 1 || facts.Count < 2 || facts.Series != facts.Count || facts.Revision != 1 || facts.Instance == "" {
		t.Errorf("ScrapeFailed facts %+v, want refusal TooManySeries over the limit of 1", facts)
	}
	// The status API gives the same facts per instance.
	for _, sc := range waitScrapes(t, e, "3 instances' scrapes refused", func(sc api.ScrapeStatus) bool {
		return sc.LastError != nil && sc.LastError.Refusal == "TooManySeries"
	}) {
		if f := sc.LastError; f.Limit != 1 || f.Count < 2 || sc.Series != f.Count || f.Instance != sc.Instance {
			t.Errorf("scrape status %+v (%+v), want TooManySeries over the limit of 1", sc, f)
		}
	}
	var dropped float64
	waitFor(t, 30*time.Second, "dropped series counted", func() bool {
		mfs := scrape(t, e)
		if mfs["validations_total"] != nil {
			t.Fatal("a refused exposition is exposed")
		}
		for _, m := range mfs["gantry_metrics_dropped_series_total"].GetMetric() {
			if label(m, "source") == "instance" && label(m, "app") == "web" {
				dropped = m.GetCounter().GetValue()
			}
		}
		return dropped >= float64(3*facts.Series) // the 3 instances' first scrapes at least
	})
}

// validationsCheck fails the new revision when less than 90% of its
// validations pass over the last 10s, three times.
const validationsCheck = `checks: [{name: validations, intervalSeconds: 1, failureLimit: 2, successCondition: "result > 0.9",
    query: 'sum(rate(validations_total{app="{{.App}}",env="{{.Env}}",revision="{{.Revision}}",result="passed"}[10s])) / sum(rate(validations_total{app="{{.App}}",env="{{.Env}}",revision="{{.Revision}}"}[10s]))'}], `

// TestAppMetrics_businessCheckRollsBackACanary: v2 answers every request
// 200 but half its validations fail, which only the sample's own
// validations_total shows. gantry scrapes it, and a user-defined check on
// the re-exposed counter aborts the canary, through the real proxy and
// processes; the analysis' own checks are off.
func TestAppMetrics_businessCheckRollsBackACanary(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs a canary on real processes")
	}
	spec := strings.Replace(canarySpec("ErrorRate", "ErrorTest", "ErrorEvidence", "LatencyTest", "LatencyRatio"), "analysis: {", "analysis: {"+validationsCheck, 1)
	spec = strings.Replace(spec, "  progressDeadlineSeconds:", "  metrics: {scrape: {interval: 200ms}}\n  progressDeadlineSeconds:", 1)
	e := startServerOpts(t, spec, func(o *server.Options) { o.AlertInterval = 200 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r := deployUnderLoad(t, ctx, e, "v2+invalid=0.5")
	_, why := waitAbortedBy(t, ctx, e, r.ID, "check validations")
	if !strings.Contains(why, `check validations failed 3 time(s), over its failure limit of 2: "result > 0.9" was false for result 0.`) {
		t.Fatalf("the Aborted event by check validations does not give the values: %q", why)
	}
	// Per version, on gantry's own /metrics: v1 validates everything.
	passed, all := map[string]float64{}, map[string]float64{}
	for _, m := range scrape(t, e)["validations_total"].GetMetric() {
		all[label(m, "version")] += m.GetCounter().GetValue()
		if label(m, "result") == "passed" {
			passed[label(m, "version")] += m.GetCounter().GetValue()
		}
	}
	if all["v1"] == 0 || passed["v1"] != all["v1"] {
		t.Errorf("v1 validations: %v passed of %v, want all", passed["v1"], all["v1"])
	}
}
