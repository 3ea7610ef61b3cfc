package alerting

import (
	"context"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// Defaults of History's bounds.
const (
	// DefaultRetention is how long History keeps samples: enough for the
	// rules' ranges ([5m]) plus their `for` (10m) with room to spare.
	DefaultRetention = 30 * time.Minute
	// DefaultMaxSeries bounds the series History keeps; samples of new
	// series beyond it are dropped and counted. The plan's two rules at
	// 100 apps x 3 revisions keep about 10,000 (every latency bucket of
	// every revision); 20,000 series of 120 samples (30 minutes at 15s)
	// are about 60 MB.
	DefaultMaxSeries = 20_000
)

// History is a bounded in-memory time-series store of gantry's own
// metrics, the storage the PromQL engine reads. It keeps float samples
// only, for Retention, of at most MaxSeries series, and of those only the
// series its Selection keeps (every series until SetSelection). It is
// safe for concurrent use.
type History struct {
	retention time.Duration
	maxSeries int

	mu       sync.RWMutex
	series   map[uint64]*series
	sel      *Selection // nil: every series
	dropped  uint64     // samples of new series refused at maxSeries
	full     bool       // a new series was refused, and there is no room yet
	skipped  uint64     // samples the selection did not keep
	latest   int64      // Unix ms of the newest Add; 0: none
	fullTime time.Time  // when the cap was last reached (full went true)
}

type series struct {
	lset    labels.Labels
	samples []sample
}

// NewHistory returns an empty History; zero arguments take
// DefaultRetention and DefaultMaxSeries.
func NewHistory(retention time.Duration, maxSeries int) *History {
	if retention <= 0 {
		retention = DefaultRetention
	}
	if maxSeries <= 0 {
		maxSeries = DefaultMaxSeries
	}
	return &History{retention: retention, maxSeries: maxSeries, series: map[uint64]*series{}}
}

// Add records one scrape's samples, all at time ts, and forgets samples
// older than the retention. A sample not newer than its series' last is
// ignored (samples are appended in time order).
func (h *History) Add(ts time.Time, batch []Sample) {
	t := ts.UnixMilli()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.latest = max(h.latest, t)
	full := false
	for _, s := range batch {
		key := s.Labels.Hash()
		se := h.series[key]
		if se == nil {
			if !h.sel.Keeps(s.Labels) {
				h.skipped++
				continue
			}
			if len(h.series) >= h.maxSeries {
				h.dropped++
				full = true
				continue
			}
			se = &series{lset: s.Labels}
			h.series[key] = se
		}
		if n := len(se.samples); n > 0 && se.samples[n-1].t >= t {
			continue
		}
		se.samples = append(se.samples, sample{t: t, f: s.Value})
	}
	h.trim(t - h.retention.Milliseconds())
	if full && !h.full {
		h.full, h.fullTime = true, ts
	} else if len(h.series) < h.maxSeries {
		h.full = false
	}
}

// SetSelection keeps from now on only the series sel keeps (nil: every
// series) and forgets those it does not.
func (h *History) SetSelection(sel *Selection) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sel = sel
	for k, se := range h.series {
		if !sel.Keeps(se.lset) {
			delete(h.series, k)
		}
	}
}

// trim drops samples older than minT and series left without any.
func (h *History) trim(minT int64) {
	for k, se := range h.series {
		i := 0
		for i < len(se.samples) && se.samples[i].t < minT {
			i++
		}
		if i == len(se.samples) {
			delete(h.series, k)
			continue
		}
		if i > 0 {
			se.samples = slices.Delete(se.samples, 0, i)
		}
	}
}

// Latest is the time of the newest samples added; zero before any.
func (h *History) Latest() time.Time {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.latest == 0 {
		return time.Time{}
	}
	return time.UnixMilli(h.latest)
}

// HistoryStats describes what a History keeps.
type HistoryStats struct {
	// Series is the series kept; MaxSeries the cap on them.
	Series, MaxSeries int
	// Samples is the samples kept, of every series.
	Samples int
	// Dropped counts the samples of new series refused because Series
	// had reached MaxSeries (rules and checks over them see no data);
	// Full says the cap refuses series, since FullSince (it clears
	// once series expire and leave room).
	Dropped   uint64
	Full      bool
	FullSince time.Time
	// Unselected counts the samples of series no rule or check reads,
	// not kept.
	Unselected uint64
	// Bytes estimates the memory the series take: their samples'
	// capacity (16 bytes each), their labels, and seriesOverhead each.
	// The Go heap around them is not counted.
	Bytes int64
}

// seriesOverhead is the bytes a series takes besides its samples and
// labels: its map entry, its struct and the slice's header, about.
const seriesOverhead = 96

// Stats reports what h keeps and what it refused.
func (h *History) Stats() HistoryStats {
	h.mu.RLock()
	defer h.mu.RUnlock()
	st := HistoryStats{Series: len(h.series), MaxSeries: h.maxSeries, Dropped: h.dropped, Full: h.full, Unselected: h.skipped}
	if h.full {
		st.FullSince = h.fullTime
	}
	for _, se := range h.series {
		st.Samples += len(se.samples)
		st.Bytes += int64(cap(se.samples))*int64(unsafe.Sizeof(sample{})) + int64(se.lset.ByteSize()) + seriesOverhead
	}
	return st
}

// Sample is one value of one series.
type Sample struct {
	Labels labels.Labels
	Value  float64
}

// Querier implements storage.Queryable.
func (h *History) Querier(mint, maxt int64) (storage.Querier, error) {
	return &querier{h: h, mint: mint, maxt: maxt}, nil
}

type querier struct {
	h          *History
	mint, maxt int64
}

// Select copies the matching series' samples between mint and maxt.
func (q *querier) Select(_ context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	mint, maxt := q.mint, q.maxt
	if hints != nil {
		mint, maxt = hints.Start, hints.End
	}
	q.h.mu.RLock()
	var out []storage.Series
	for _, se := range q.h.series {
		if !matches(se.lset, ms) {
			continue
		}
		var ss chunks.SampleSlice
		for _, s := range se.samples {
			if s.t >= mint && s.t <= maxt {
				ss = append(ss, s)
			}
		}
		if len(ss) > 0 {
			out = append(out, storage.NewListSeries(se.lset, ss))
		}
	}
	q.h.mu.RUnlock()
	if sortSeries {
		slices.SortFunc(out, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
	}
	return &seriesSet{list: out, i: -1}
}

// LabelValues returns the sorted values of a label among matching series.
func (q *querier) LabelValues(_ context.Context, name string, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	seen := map[string]bool{}
	q.each(ms, func(l labels.Labels) {
		if v := l.Get(name); v != "" {
			seen[v] = true
		}
	})
	return sortedKeys(seen), nil, nil
}

// LabelNames returns the sorted label names of matching series.
func (q *querier) LabelNames(_ context.Context, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	seen := map[string]bool{}
	q.each(ms, func(l labels.Labels) { l.Range(func(lb labels.Label) { seen[lb.Name] = true }) })
	return sortedKeys(seen), nil, nil
}

func (q *querier) each(ms []*labels.Matcher, f func(labels.Labels)) {
	q.h.mu.RLock()
	defer q.h.mu.RUnlock()
	for _, se := range q.h.series {
		if matches(se.lset, ms) {
			f(se.lset)
		}
	}
}

func (q *querier) Close() error { return nil }

func matches(l labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(l.Get(m.Name)) {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

type seriesSet struct {
	list []storage.Series
	i    int
}

func (s *seriesSet) Next() bool                        { s.i++; return s.i < len(s.list) }
func (s *seriesSet) At() storage.Series                { return s.list[s.i] }
func (s *seriesSet) Err() error                        { return nil }
func (s *seriesSet) Warnings() annotations.Annotations { return nil }

// sample is one float sample; it implements chunks.Sample.
type sample struct {
	t int64
	f float64
}

func (s sample) T() int64                      { return s.t }
func (s sample) ST() int64                     { return 0 }
func (s sample) F() float64                    { return s.f }
func (s sample) H() *histogram.Histogram       { return nil }
func (s sample) FH() *histogram.FloatHistogram { return nil }
func (s sample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s sample) Copy() chunks.Sample           { return s }

// selection is h's Selection (nil: every series).
func (h *History) selection() *Selection {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.sel
}
