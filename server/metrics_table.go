package server

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gantry-dev/gantry/proxy"
	"github.com/gantry-dev/gantry/router/proxyrouter"
)

// The proxy's per-revision and per-route families are most of a scrape:
// with 100 apps × 3 revisions × 20 routes, 70,000 of its series. They are
// kept in a seriesTable between scrapes: each series' labels (as label
// pairs and as exposition text) are built when the series first appears
// and reused while it lasts, so a scrape only reads the counters and
// writes numbers. The text and protobuf formats of these families are
// written here (appendText, pbWriter: checked byte for byte against
// expfmt's and proto.Marshal's); the Gatherer view and the other formats
// go through client_model's types (dtoFamily).

// bigFamily is one of the families a seriesTable keeps.
type bigFamily struct {
	name, help string
	typ        dto.MetricType
	desc       *prometheus.Desc // for latencyMetric
	header     string           // its # HELP and # TYPE lines
	bounds     []int            // histograms: the classic bounds, as proxy bucket indexes
	les        []string         // histograms: `,le="<bound>"} ` per bound, then +Inf's
}

// newBigFamily returns a family and its exposition header.
func newBigFamily(name, help string, typ dto.MetricType, labels []string, bounds []int) *bigFamily {
	f := &bigFamily{name: name, help: help, typ: typ, bounds: bounds,
		desc: prometheus.NewDesc(name, help, labels, nil)}
	kind := map[dto.MetricType]string{dto.MetricType_COUNTER: "counter", dto.MetricType_GAUGE: "gauge", dto.MetricType_HISTOGRAM: "histogram"}[typ]
	f.header = "# HELP " + name + " " + helpEscaper.Replace(help) + "\n# TYPE " + name + " " + kind + "\n"
	for _, b := range bounds {
		f.les = append(f.les, `,le="`+strconv.FormatFloat(upperBounds[b], 'g', -1, 64)+`"} `)
	}
	f.les = append(f.les, `,le="+Inf"} `)
	return f
}

// The text format's escaping: of help text, and of label values.
var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	valueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// The families a seriesTable keeps, in name order.
var (
	requestsFamily = newBigFamily("gantry_requests_total",
		"Requests the proxy finished, by revision and status class (1xx..5xx, or client_closed for clients that went away first, logged as 499). Revision 0 carries requests no revision could take.",
		dto.MetricType_COUNTER, append(revisionLabels[:5:5], "code_class"), nil)
	inFlightFamily = newBigFamily("gantry_requests_in_flight",
		"Requests being served right now.", dto.MetricType_GAUGE, revisionLabels, nil)
	durationFamily = newBigFamily("gantry_request_duration_seconds",
		"Time from the request head read to the response body handed to the client, one bucket per doubling from 100µs to about 105s.",
		dto.MetricType_HISTOGRAM, revisionLabels, revisionBounds)
	proxyErrorsFamily = newBigFamily("gantry_proxy_errors_total",
		"502, 503 and 504 responses the proxy produced itself (also counted in gantry_requests_total{code_class=\"5xx\"}).",
		dto.MetricType_COUNTER, revisionLabels, nil)
	routeDurationFamily = newBigFamily("gantry_route_request_duration_seconds",
		"Request durations by revision and route template: classic buckets 6.4ms, 25.6ms, 102.4ms, 409.6ms and 1.6384s (few, to keep per-route series cheap), and a native histogram (schema 1) for scrapers that negotiate protobuf.",
		dto.MetricType_HISTOGRAM, routeLabels, routeBounds)
	routeRequestsFamily = newBigFamily("gantry_route_requests_total",
		"Requests the proxy finished, by revision, route template (spec.metrics.routes; other for paths no template matches) and status class (a class appears with its first request).",
		dto.MetricType_COUNTER, append(routeLabels[:6:6], "code_class"), nil)
)

// seriesKey identifies a revision's series (route empty) or a route's.
type seriesKey struct {
	app, env       string
	revision       int
	version, group string
	route          string
	isRoute        bool
}

// seriesLabels are one revision's or route's labels, built once.
type seriesLabels struct {
	pairs []*dto.LabelPair // sorted by name, without empty values
	text  string           // the pairs as exposition text, without braces
	pb    []byte           // the pairs as a protobuf Metric's label fields
	class [6]*classSeries  // with code_class, built at first use
	seen  uint64           // the table's generation that last read it
}

// classSeries are a series' labels with code_class.
type classSeries struct {
	pairs []*dto.LabelPair
	text  string
	pb    []byte
}

// pairsText returns label pairs as exposition text: name="value" joined
// with commas, values escaped.
func pairsText(pairs []*dto.LabelPair) string {
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.GetName())
		b.WriteString(`="`)
		valueEscaper.WriteString(&b, p.GetValue())
		b.WriteByte('"')
	}
	return b.String()
}

// classOf returns the series' labels with code_class=classLabels[i].
func (l *seriesLabels) classOf(i int) *classSeries {
	if c := l.class[i]; c != nil {
		return c
	}
	pairs := withLabel(l.pairs, classLabels[i])
	c := &classSeries{pairs, pairsText(pairs), pbLabels(pairs)}
	l.class[i] = c
	return c
}

// valueSample is a counter's or gauge's value in one scrape.
type valueSample struct {
	pairs []*dto.LabelPair
	text  string
	pb    []byte
	v     float64
}

// histSample is a histogram in one scrape.
type histSample struct {
	labels *seriesLabels
	h      *proxy.Histogram
}

// seriesTable keeps the labels of the big families' series between
// scrapes and holds one scrape's samples. Not safe for concurrent use: a
// metricsSource serializes its scrapes.
type seriesTable struct {
	series map[seriesKey]*seriesLabels
	gen    uint64
	// This scrape's samples, per family (slices reused).
	requests, proxyErrors, inFlight, routeRequests []valueSample
	durations, routeDurations                      []histSample
}

// families pairs each family with its samples, in name order.
func (t *seriesTable) families() []tableFamily {
	return []tableFamily{
		{proxyErrorsFamily, t.proxyErrors, nil},
		{durationFamily, nil, t.durations},
		{inFlightFamily, t.inFlight, nil},
		{requestsFamily, t.requests, nil},
		{routeDurationFamily, nil, t.routeDurations},
		{routeRequestsFamily, t.routeRequests, nil},
	}
}

// tableFamily is one family's samples of a scrape.
type tableFamily struct {
	f      *bigFamily
	values []valueSample
	hists  []histSample
}

// labels returns the labels of key, building them at first use.
func (t *seriesTable) labels(k seriesKey) *seriesLabels {
	l := t.series[k]
	if l == nil {
		names, values := revisionLabels, []string{k.app, k.env, strconv.Itoa(k.revision), k.version, k.group}
		if k.isRoute {
			names, values = routeLabels, append(values, k.route)
		}
		for i, v := range values {
			values[i] = strings.ToValidUTF8(v, string(utf8.RuneError))
		}
		pairs := labelPairs(names, values)
		l = &seriesLabels{pairs: pairs, text: pairsText(pairs), pb: pbLabels(pairs)}
		if t.series == nil {
			t.series = map[seriesKey]*seriesLabels{}
		}
		t.series[k] = l
	}
	l.seen = t.gen
	return l
}

// update reads a scrape's counters into the table: the revisions
// exportedRevisions keeps and their routes. Series gone since the last
// scrape are forgotten. envs must stay unchanged until the samples are
// written (histograms point into them).
func (t *seriesTable) update(envs []proxyrouter.EnvStats) {
	t.gen++
	t.requests, t.proxyErrors, t.inFlight, t.routeRequests = t.requests[:0], t.proxyErrors[:0], t.inFlight[:0], t.routeRequests[:0]
	t.durations, t.routeDurations = t.durations[:0], t.routeDurations[:0]
	for i := range envs {
		e := &envs[i]
		keep, exported := exportedRevisions(e)
		for j := range keep {
			s := &keep[j]
			l := t.labels(seriesKey{app: e.App, env: e.Env, revision: s.Revision, version: s.Version, group: s.Group})
			for ci, n := range statusClasses(s.Requests, s.Status2xx, s.Status3xx, s.Status4xx, s.Status5xx, s.ClientClosed) {
				c := l.classOf(ci)
				t.requests = append(t.requests, valueSample{c.pairs, c.text, c.pb, float64(n)})
			}
			t.proxyErrors = append(t.proxyErrors, valueSample{l.pairs, l.text, l.pb, float64(s.ProxyErrors)})
			t.inFlight = append(t.inFlight, valueSample{l.pairs, l.text, l.pb, float64(s.InFlight)})
			t.durations = append(t.durations, histSample{l, &s.Latency})
		}
		for j := range e.Routes {
			s := &e.Routes[j]
			if !exported[s.Revision] {
				continue
			}
			l := t.labels(seriesKey{app: e.App, env: e.Env, revision: s.Revision, version: s.Version, group: s.Group, route: s.Route, isRoute: true})
			for ci, n := range statusClasses(s.Requests, s.Status2xx, s.Status3xx, s.Status4xx, s.Status5xx, s.ClientClosed) {
				if n == 0 {
					continue // as a CounterVec: a class's series appears with its first request
				}
				c := l.classOf(ci)
				t.routeRequests = append(t.routeRequests, valueSample{c.pairs, c.text, c.pb, float64(n)})
			}
			t.routeDurations = append(t.routeDurations, histSample{l, &s.Latency})
		}
	}
	for k, l := range t.series {
		if l.seen != t.gen {
			delete(t.series, k)
		}
	}
}

// statusClasses splits requests by status class, in classLabels' order.
func statusClasses(requests, s2xx, s3xx, s4xx, s5xx, closed uint64) [6]uint64 {
	return [6]uint64{requests - s2xx - s3xx - s4xx - s5xx - closed, s2xx, s3xx, s4xx, s5xx, closed}
}

// appendText appends the family's samples in the text format, exactly as
// expfmt.MetricFamilyToText writes dtoFamily's result; nothing for a
// family without samples.
func (tf tableFamily) appendText(b []byte) []byte {
	if len(tf.values) == 0 && len(tf.hists) == 0 {
		return b
	}
	f := tf.f
	b = append(b, f.header...)
	for _, s := range tf.values {
		b = appendSeries(b, f.name, "", s.text, "")
		b = append(b, ' ')
		b = strconv.AppendFloat(b, s.v, 'g', -1, 64)
		b = append(b, '\n')
	}
	for _, s := range tf.hists {
		var cum uint64
		next := 0
		for i, c := range s.h.Counts {
			cum += c
			if next < len(f.bounds) && f.bounds[next] == i {
				b = appendSeries(b, f.name, "_bucket", s.labels.text, f.les[next])
				b = strconv.AppendFloat(b, float64(cum), 'g', -1, 64)
				b = append(b, '\n')
				next++
			}
		}
		b = appendSeries(b, f.name, "_bucket", s.labels.text, f.les[len(f.bounds)])
		b = strconv.AppendFloat(b, float64(cum), 'g', -1, 64)
		b = append(b, '\n')
		b = appendSeries(b, f.name, "_sum", s.labels.text, "")
		b = append(b, ' ')
		b = strconv.AppendFloat(b, s.h.Sum.Seconds(), 'g', -1, 64)
		b = append(b, '\n')
		b = appendSeries(b, f.name, "_count", s.labels.text, "")
		b = append(b, ' ')
		b = strconv.AppendFloat(b, float64(cum), 'g', -1, 64)
		b = append(b, '\n')
	}
	return b
}

// appendSeries appends a sample's name and labels; le, when not empty, is
// the bucket's le label with the closing brace and the space after it.
func appendSeries(b []byte, name, suffix, labels, le string) []byte {
	b = append(append(b, name...), suffix...)
	switch {
	case le != "":
		if labels == "" {
			return append(append(b, '{'), le[1:]...)
		}
		return append(append(append(b, '{'), labels...), le...)
	case labels != "":
		return append(append(append(b, '{'), labels...), '}')
	}
	return b
}

// dtoFamily returns the family's samples as client_model's type, for the
// protobuf format and for Gatherer callers; nil without samples. The
// label pairs are shared with the table: callers must not change them.
func (tf tableFamily) dtoFamily() *dto.MetricFamily {
	n := len(tf.values) + len(tf.hists)
	if n == 0 {
		return nil
	}
	f := tf.f
	mf := &dto.MetricFamily{Name: &f.name, Help: &f.help, Type: f.typ.Enum(), Metric: make([]*dto.Metric, 0, n)}
	ms := make([]dto.Metric, n)
	for i, s := range tf.values {
		m := &ms[i]
		m.Label = s.pairs
		v := s.v
		if f.typ == dto.MetricType_GAUGE {
			m.Gauge = &dto.Gauge{Value: &v}
		} else {
			m.Counter = &dto.Counter{Value: &v}
		}
		mf.Metric = append(mf.Metric, m)
	}
	for i, s := range tf.hists {
		m := &ms[len(tf.values)+i]
		_ = latencyMetric{f.desc, s.labels.pairs, s.h, f.bounds}.Write(m)
		mf.Metric = append(mf.Metric, m)
	}
	return mf
}
