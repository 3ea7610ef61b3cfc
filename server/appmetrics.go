package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/metrics/appmetrics"
	"github.com/gantry-dev/gantry/rollout"
)

// appMetricsSync is how often the leader looks for instances to scrape
// (spec.metrics.scrape): a ready instance is scraped within this.
const appMetricsSync = time.Second

// reservedMetricName says which names an instance's metric may not keep,
// because gantry exports or records them itself: its own gantry_*, the
// Go runtime's and process's (go_*, process_*, promhttp_*), and the names
// the built-in recording rules give the proxy's counters
// (alerting/builtin.rules.yml). Mixing an instance's http_requests_total
// with gantry's per-revision one would count requests twice in the
// deployment plan's rules. Such a metric is re-exposed as exported_NAME.
func reservedMetricName(name string) bool {
	for _, p := range []string{"gantry_", "go_", "process_", "promhttp_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return name == "http_requests_total" || name == "http_request_duration_seconds"
}

// newAppMetrics returns the scraper of instances' own metrics; its
// failures become ScrapeFailed events.
func (s *Server) newAppMetrics() *appmetrics.Scraper {
	return appmetrics.New(appmetrics.Options{Reserved: reservedMetricName, OnFailure: s.scrapeFailed})
}

// scrapeFacts are the typed facts of a failed scrape of t.
func scrapeFacts(t appmetrics.Target, err error) *rollout.ScrapeFacts {
	f := &rollout.ScrapeFacts{Instance: t.Instance, Revision: t.Revision, Version: t.Version, URL: t.URL()}
	var r *appmetrics.Refusal
	if errors.As(err, &r) {
		f.Refusal, f.Count, f.Limit, f.Series, f.Metric, f.Label = string(r.Reason), r.Count, r.Limit, r.Series, r.Metric, r.Label
	} else {
		f.Error = err.Error()
	}
	return f
}

// scrapeStatus lists the last scrape of each scraped instance of app's env.
func (s *Server) scrapeStatus(app, env string) []api.ScrapeStatus {
	var out []api.ScrapeStatus
	for _, ts := range s.appMetrics.Targets() {
		t, st := ts.Target, ts.Status
		if t.App != app || t.Env != env {
			continue
		}
		sc := api.ScrapeStatus{Instance: t.Instance, Revision: t.Revision, Group: t.Group, URL: t.URL(), LastScrape: st.At,
			DurationMs: float64(st.Duration.Microseconds()) / 1000, Series: st.Series, Scrapes: st.Scrapes}
		if st.Err != nil {
			sc.LastError = scrapeFacts(t, st.Err)
		}
		out = append(out, sc)
	}
	return out
}

// scrapeFailed records a ScrapeFailed event with the typed facts.
func (s *Server) scrapeFailed(t appmetrics.Target, err error) {
	f := scrapeFacts(t, err)
	s.recordEvent(rollout.Event{App: t.App, Env: t.Env, Type: rollout.Warning, Reason: rollout.ReasonScrapeFailed,
		Message: fmt.Sprintf("instance %s (revision %d): scrape of %s: %v", t.Instance, t.Revision, t.URL(), err),
		Details: &rollout.Details{Scrape: f}})
}

// revKey names one revision of an environment.
type revKey struct {
	app, env string
	rev      int
}

// runAppMetrics keeps the scraper's targets the ready instances whose
// revision's spec asks for a scrape, until ctx ends (on the leader).
func (s *Server) runAppMetrics(ctx context.Context) {
	defer s.appMetrics.Close()
	configs := map[revKey]*appmetrics.Config{} // nil: the revision asks for no scrape
	tick := time.NewTicker(appMetricsSync)
	defer tick.Stop()
	for {
		s.appMetrics.Sync(ctx, s.scrapeTargets(ctx, configs))
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// scrapeTargets lists the ready instances to scrape, reading each
// revision's spec once (configs caches them; revisions no instance runs
// any more are forgotten).
func (s *Server) scrapeTargets(ctx context.Context, configs map[revKey]*appmetrics.Config) []appmetrics.Target {
	b := s.leading().backend
	if b == nil {
		return nil
	}
	var out []appmetrics.Target
	seen := map[revKey]bool{}
	for _, e := range b.environments() {
		for _, in := range b.Instances(e.app, e.env) {
			k := revKey{e.app, e.env, in.Revision}
			seen[k] = true
			c, ok := configs[k]
			if !ok {
				rev, err := s.store.GetRevision(ctx, e.app, e.env, in.Revision)
				if err != nil {
					continue // tried again next time
				}
				if sc, on := rev.Spec.Metrics.ScrapeConfig(); on {
					c = &sc
				}
				configs[k] = c
			}
			if c == nil || !in.Ready || in.Addr == "" {
				continue
			}
			out = append(out, appmetrics.Target{App: e.app, Env: e.env, Revision: in.Revision, Version: in.Version,
				Instance: in.ID, Group: in.Group, Addr: in.Addr, Config: *c})
		}
	}
	for k := range configs {
		if !seen[k] {
			delete(configs, k)
		}
	}
	return out
}

// environments lists the environments of the applied specs.
func (m *envBackends) environments() []envKey {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]envKey, 0, len(m.envs))
	for k := range m.envs {
		out = append(out, k)
	}
	return out
}

// appMetricsCollector reports the instances' own metrics and the series
// of refused scrapes, per environment, in
// gantry_metrics_dropped_series_total{source="instance"}.
type appMetricsCollector struct{ s *Server }

// Describe implements prometheus.Collector: nothing (unchecked, as the
// instances' metric names are theirs).
func (appMetricsCollector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c appMetricsCollector) Collect(ch chan<- prometheus.Metric) {
	c.s.appMetrics.Collector().Collect(ch)
	for k, n := range c.s.appMetrics.Dropped() {
		ch <- prometheus.MustNewConstMetric(droppedSeriesDesc, prometheus.CounterValue, float64(n), k.App, k.Env, "instance")
	}
}
