package spec

import (
	"net/url"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/metrics/appmetrics"
)

// ScrapeSpec makes gantry scrape the metrics each ready instance serves
// itself (Prometheus text format) and re-expose them on gantry's /metrics
// with the app, env, revision, version and instance labels, where the
// alert rules and the analysis' checks read them too.
type ScrapeSpec struct {
	// Path is the path (and query) scraped on the instance's own address
	// (the port gantry gives it). "": /metrics.
	Path string `json:"path,omitempty"`
	// Interval is the time between two scrapes of an instance, a duration
	// such as 15s, from 100ms to 1h. "": 15s.
	Interval string `json:"interval,omitempty"`
	// Timeout bounds one scrape, at most Interval. "": the interval, at
	// most 10s.
	Timeout string `json:"timeout,omitempty"`
	// SeriesLimit is how many series one instance may export (each
	// histogram bucket counts), 1 to 10,000; an instance exporting more is
	// refused whole, and the refusal counted and reported. 0: 1,000.
	SeriesLimit int `json:"seriesLimit,omitempty"`
	// LabelValueLimit is how many values one label of one metric may take
	// in an instance's exposition, 1 to SeriesLimit; more means an
	// unbounded label (a user ID, a raw path) and the exposition is
	// refused. 0: 100.
	LabelValueLimit int `json:"labelValueLimit,omitempty"`
}

// Config returns the scrape configuration with defaults applied; call it
// on a validated spec (a duration that does not parse counts as unset).
func (s ScrapeSpec) Config() appmetrics.Config {
	interval, _ := time.ParseDuration(s.Interval)
	timeout, _ := time.ParseDuration(s.Timeout)
	return appmetrics.Config{Path: s.Path, Interval: interval, Timeout: timeout,
		SeriesLimit: s.SeriesLimit, LabelValueLimit: s.LabelValueLimit}.WithDefaults()
}

// ScrapeConfig returns the scrape configuration of the app's instances;
// ok is false when the app asks for none.
func (m *MetricsSpec) ScrapeConfig() (c appmetrics.Config, ok bool) {
	if m == nil || m.Scrape == nil {
		return appmetrics.Config{}, false
	}
	return m.Scrape.Config(), true
}

// scrape checks spec.metrics.scrape: a path, durations in bounds, a
// timeout within the interval, limits in bounds.
func (v *validator) scrape(path string, s *ScrapeSpec) {
	if s == nil {
		return
	}
	if s.Path != "" {
		u, err := url.Parse(s.Path)
		switch {
		case err != nil:
			v.add(joinField(path, "path"), "%q is not a URL path: %v", s.Path, err)
		case !strings.HasPrefix(s.Path, "/") || u.Host != "" || u.Scheme != "":
			v.add(joinField(path, "path"), "%q: a path on the instance's own address, starting with /, such as /metrics", s.Path)
		}
	}
	interval := v.scrapeDuration(joinField(path, "interval"), s.Interval, appmetrics.MinInterval, appmetrics.MaxInterval)
	if interval == 0 {
		interval = appmetrics.DefaultInterval
	}
	v.scrapeDuration(joinField(path, "timeout"), s.Timeout, time.Millisecond, interval)
	if s.SeriesLimit < 0 || s.SeriesLimit > appmetrics.MaxSeriesLimit {
		v.add(joinField(path, "seriesLimit"), "%d: from 1 to %d series per instance (0: %d)", s.SeriesLimit, appmetrics.MaxSeriesLimit, appmetrics.DefaultSeriesLimit)
	}
	series := s.SeriesLimit
	if series <= 0 {
		series = appmetrics.DefaultSeriesLimit
	}
	if s.LabelValueLimit < 0 || s.LabelValueLimit > series {
		v.add(joinField(path, "labelValueLimit"), "%d: from 1 to the series limit, %d (0: %d)", s.LabelValueLimit, series, min(appmetrics.DefaultLabelValueLimit, series))
	}
}

// scrapeDuration checks an optional duration field within [lo, hi] and
// returns it; 0 when unset or wrong.
func (v *validator) scrapeDuration(path, s string, lo, hi time.Duration) time.Duration {
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		v.add(path, "%q is not a duration; write one such as 15s or 500ms", s)
		return 0
	}
	if d < lo || d > hi {
		v.add(path, "%s: from %s to %s", d, lo, hi)
		return 0
	}
	return d
}
