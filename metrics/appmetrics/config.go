package appmetrics

import "time"

// Defaults and bounds of Config, the limits spec.metrics.scrape accepts.
const (
	// DefaultPath is the path scraped when the spec names none.
	DefaultPath = "/metrics"
	// DefaultInterval is the time between two scrapes of one instance.
	DefaultInterval = 15 * time.Second
	// MinInterval and MaxInterval bound Config.Interval.
	MinInterval = 100 * time.Millisecond
	MaxInterval = time.Hour
	// MaxDefaultTimeout caps the default timeout (the interval, at most this).
	MaxDefaultTimeout = 10 * time.Second
	// DefaultSeriesLimit is how many series one instance may export.
	DefaultSeriesLimit = 1000
	// MaxSeriesLimit bounds Config.SeriesLimit (what /metrics serves per
	// instance; gantry's in-memory alerting history keeps only the series
	// rules and checks read, 20,000 at most by default).
	MaxSeriesLimit = 10_000
	// DefaultLabelValueLimit is how many values one label of one metric may
	// take in one instance's exposition.
	DefaultLabelValueLimit = 100
	// MaxBodyBytes bounds the body of one scrape; a longer one is refused
	// without being parsed.
	MaxBodyBytes = 8 << 20
)

// Config is how the instances of one revision are scraped. The zero value
// of a field takes its default.
type Config struct {
	// Path is the URL path (and query) scraped on the instance's own
	// address; "": DefaultPath.
	Path string
	// Interval is the time between two scrapes of one instance; 0:
	// DefaultInterval.
	Interval time.Duration
	// Timeout bounds one scrape, from connecting to the body's last byte;
	// 0: the interval, at most MaxDefaultTimeout.
	Timeout time.Duration
	// SeriesLimit is how many series an instance may export, counted as
	// Prometheus stores them (each histogram bucket, _sum and _count is
	// one); an exposition with more is refused whole. 0: DefaultSeriesLimit.
	SeriesLimit int
	// LabelValueLimit is how many distinct values one label of one metric
	// may take in an exposition (a label such as user_id or a raw path
	// is unbounded: the exposition is refused, naming it). 0:
	// DefaultLabelValueLimit.
	LabelValueLimit int
}

// WithDefaults returns c with its zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Timeout == 0 {
		c.Timeout = min(c.Interval, MaxDefaultTimeout)
	}
	if c.SeriesLimit == 0 {
		c.SeriesLimit = DefaultSeriesLimit
	}
	if c.LabelValueLimit == 0 {
		c.LabelValueLimit = DefaultLabelValueLimit
	}
	return c
}
