package server

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"

	"github.com/gantry-dev/gantry/proxy"
	"github.com/gantry-dev/gantry/router/proxyrouter"
)

// oddEnvs are counters whose labels need the text format's escaping (or
// are not UTF-8), with revision 0, a baseline group, more revisions than
// are exported, routes with and without requests per class, and sums that
// are not round.
func oddEnvs() []proxyrouter.EnvStats {
	e := proxyrouter.EnvStats{App: "web", Env: "prod\"q"}
	hist := func(seed int) proxy.Histogram {
		var h proxy.Histogram
		for i := range h.Counts {
			h.Counts[i] = uint64((i*seed)%7) * uint64(1+i%3) * 1_000_003
			h.Sum += time.Duration(h.Counts[i]) * 1_234_567
		}
		return h
	}
	for r := 0; r <= 13; r++ {
		s := proxy.RevisionStats{Revision: r, Version: fmt.Sprintf("v%d\\x\n\"é", r), Requests: uint64(100 * r), Status2xx: uint64(50 * r),
			Status5xx: uint64(r), ClientClosed: uint64(r % 2), ProxyErrors: uint64(r / 2), InFlight: int64(r % 3), Latency: hist(r)}
		e.Revisions = append(e.Revisions, s)
		if r == 13 {
			b := s
			b.Group, b.Version = "baseline", "v\xff\xfebad"
			e.Revisions = append(e.Revisions, b)
		}
		for _, route := range []string{"/a/{id}", "/b\"c\\d", "other"} {
			e.Routes = append(e.Routes, proxy.RouteStats{Revision: r, Version: s.Version, Route: route,
				Requests: uint64(r * 3), Status2xx: uint64(r), Status4xx: uint64(r % 2), Latency: hist(r + len(route))})
		}
	}
	e.Rejections = []proxy.Rejection{{Reason: proxy.Reason(1), Count: 4}}
	quiet := proxyrouter.EnvStats{App: "api", Env: "staging", Revisions: []proxy.RevisionStats{{Revision: 1}}}
	return []proxyrouter.EnvStats{quiet, e}
}

func TestSeriesTable_textIsExpfmts(t *testing.T) {
	var tab seriesTable
	tab.update(oddEnvs())
	written := 0
	for _, tf := range tab.families() {
		mf := tf.dtoFamily()
		got := string(tf.appendText(nil))
		if mf == nil {
			if got != "" {
				t.Errorf("%s: no samples, but text %q", tf.f.name, got)
			}
			continue
		}
		written++
		var want bytes.Buffer
		if _, err := expfmt.MetricFamilyToText(&want, mf); err != nil {
			t.Fatal(err)
		}
		if got != want.String() {
			t.Errorf("%s: text differs from expfmt's:\n got %q\nwant %q", tf.f.name, got, want.String())
		}
	}
	if written != 6 {
		t.Errorf("%d families written, want 6", written)
	}
}

func TestSeriesTable_protobufIsProtoMarshals(t *testing.T) {
	var tab seriesTable
	envs := oddEnvs()
	// A histogram with no observation: its native part is one empty span.
	envs[0].Revisions = append(envs[0].Revisions, proxy.RevisionStats{Revision: 2, Version: "v2"})
	tab.update(envs)
	var w pbWriter
	written := 0
	for _, tf := range tab.families() {
		got := w.appendFamily(nil, tf)
		mf := tf.dtoFamily()
		if mf == nil {
			if len(got) != 0 {
				t.Errorf("%s: no samples, but %d bytes", tf.f.name, len(got))
			}
			continue
		}
		written++
		var want bytes.Buffer
		if _, err := protodelim.MarshalTo(&want, mf); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			var back dto.MetricFamily
			err := protodelim.UnmarshalFrom(bytes.NewReader(got), &back)
			t.Errorf("%s: %d bytes, proto.Marshal %d (equal messages: %v, %v)", tf.f.name, len(got), want.Len(), err == nil && proto.Equal(&back, mf), err)
		}
	}
	if written != 6 {
		t.Errorf("%d families written, want 6", written)
	}
}

func TestSeriesTable_exportedRevisionsAndForgottenSeries(t *testing.T) {
	var tab seriesTable
	envs := oddEnvs()
	tab.update(envs)
	revs := map[string]bool{}
	for _, s := range tab.inFlight {
		for _, p := range s.pairs {
			if p.GetName() == "revision" && strings.Contains(s.text, `env="prod\"q"`) {
				revs[p.GetValue()] = true
			}
		}
	}
	// Revision 0 and the newest 10 series (13 has a baseline too): 5..13.
	for _, r := range []string{"0", "5", "13"} {
		if !revs[r] {
			t.Errorf("revision %s not exported: %v", r, revs)
		}
	}
	for _, r := range []string{"1", "4"} {
		if revs[r] {
			t.Errorf("revision %s exported: only 0 and the newest 10 are", r)
		}
	}
	if len(tab.routeDurations) != 10*3 {
		t.Errorf("%d route histograms, want 30 (3 routes of the 10 exported revisions)", len(tab.routeDurations))
	}
	all := len(tab.series)
	tab.update(envs[:1])
	if len(tab.series) != 1 || all <= 1 {
		t.Errorf("after the environment went away the table keeps %d series (had %d), want 1", len(tab.series), all)
	}
}

// get scrapes src over a socket with the given Accept and Accept-Encoding.
func get(t *testing.T, url, accept, encoding string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("Accept-Encoding", encoding)
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %v %s", err, body)
	}
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return resp, body
}

// byName indexes families by name.
func byName(mfs []*dto.MetricFamily) map[string]*dto.MetricFamily {
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

func TestMetricsSource_servesWhatItGathers(t *testing.T) {
	envs := oddEnvs()
	src := &metricsSource{reg: prometheus.NewRegistry(), read: func() []proxyrouter.EnvStats { return envs }}
	// Families sorted before, between and after the table's.
	for _, name := range []string{"a_first_total", "gantry_requests_mid_total", "z_last_total"} {
		c := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "A gauge\\ with\nescapes."})
		c.Set(3.25)
		src.reg.MustRegister(c)
	}
	src.reg.MustRegister(extrasCollector{src})
	srv := httptest.NewServer(src)
	defer srv.Close()
	all, err := src.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := byName(all)
	if want["gantry_route_requests_total"] == nil || want["gantry_metrics_dropped_series_total"] == nil {
		t.Fatalf("Gather: families %v", want)
	}

	// The text format, plain and gzipped: the same bytes, which
	// Prometheus's parser reads back as what Gather returns.
	resp, text := get(t, srv.URL, "text/plain;version=0.0.4;q=0.5,*/*;q=0.1", "identity")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q, want the text format", ct)
	}
	resp, unzipped := get(t, srv.URL, "", "gzip, deflate")
	if resp.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(unzipped, text) {
		t.Errorf("gzipped scrape: Content-Encoding %q, %d bytes unzipped; want gzip of the same %d bytes",
			resp.Header.Get("Content-Encoding"), len(unzipped), len(text))
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	parsed, err := parser.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("parse the text format: %v", err)
	}
	for name, mf := range want {
		if !sameSamples(t, mf, parsed[name], true) {
			t.Errorf("%s: the text format reads back differently", name)
		}
	}

	// Protobuf, as a Prometheus scraping native histograms asks.
	resp, pb := get(t, srv.URL, "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,*/*;q=0.1", "gzip")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/vnd.google.protobuf") {
		t.Fatalf("Content-Type %q, want protobuf", ct)
	}
	r := bytes.NewReader(pb)
	n := 0
	for {
		var mf dto.MetricFamily
		if err := protodelim.UnmarshalFrom(r, &mf); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("protobuf family %d: %v", n, err)
		}
		n++
		if !sameSamples(t, want[mf.GetName()], &mf, false) {
			t.Errorf("%s: protobuf differs from Gather's", mf.GetName())
		}
	}
	if n != len(want) || len(want) != 6+2+3 {
		t.Errorf("protobuf: %d families, Gather %d; want 11 (the table's 6, the extras' 2, 3 more)", n, len(want))
	}
}

// sameSamples compares two families' series in order; text: as the text
// format keeps them (no native histogram, the +Inf bucket added).
func sameSamples(t *testing.T, a, b *dto.MetricFamily, text bool) bool {
	t.Helper()
	if a == nil || b == nil || len(a.Metric) != len(b.Metric) || a.GetType() != b.GetType() || a.GetHelp() != b.GetHelp() {
		return false
	}
	for i := range a.Metric {
		x, y := a.Metric[i], b.Metric[i]
		if text && x.Histogram != nil {
			h := x.Histogram
			x = &dto.Metric{Label: x.Label, Histogram: &dto.Histogram{SampleCount: h.SampleCount, SampleSum: h.SampleSum,
				Bucket: append(h.Bucket[:len(h.Bucket):len(h.Bucket)], &dto.Bucket{UpperBound: new(math.Inf(1)), CumulativeCount: h.SampleCount})}}
		}
		if !proto.Equal(x, y) {
			t.Logf("series %d:\n%v\n%v", i, x, y)
			return false
		}
	}
	return true
}

// extrasCollector reports the small families of src's scrape, as
// runtimeCollector does.
type extrasCollector struct{ src *metricsSource }

func (c extrasCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- rejectedDesc
	ch <- droppedSeriesDesc
	ch <- activeUsersDesc
}

func (c extrasCollector) Collect(ch chan<- prometheus.Metric) {
	envs := c.src.currentEnvs()
	for i := range envs {
		collectProxyExtras(ch, &envs[i])
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"gzip": true, "identity": false, "": false, "deflate, gzip;q=0.5": true, "gzip;q=0": false,
		"*": true, "br;q=1, *;q=0.1": true, "GZIP": true, "gzip ; q=0.0, identity": false, "gzip;q=0, *": false,
	} {
		if got := acceptsGzip([]string{h}); got != want {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", h, got, want)
		}
	}
}
