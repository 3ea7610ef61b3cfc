package server

import (
	"compress/gzip"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/gantry-dev/gantry/router/proxyrouter"
)

// metricsSource serves GET /metrics and is the prometheus.Gatherer of
// everything it serves (the alerting history and the query checks sample
// it). Each scrape reads the proxy's counters once: the registry's
// collectors (client_golang) report the small families from that read
// (envs), and a seriesTable the big per-revision and per-route ones.
// Scrapes are serialized; the body is encoded under the lock and sent
// after it, so a slow client holds up no other scrape.
type metricsSource struct {
	reg *prometheus.Registry
	// read returns the counters of every environment; nil while the
	// server follows.
	read func() []proxyrouter.EnvStats

	mu    sync.Mutex
	envs  []proxyrouter.EnvStats // the read of the scrape in progress
	table seriesTable
	text  []byte      // a family's exposition before it is gzipped
	pb    pbWriter    // the protobuf format's buffers
	free  []*byteSink // bodies sent, kept for the next scrapes
}

// byteSink is an encoded body.
type byteSink struct{ b []byte }

// Write implements io.Writer.
func (s *byteSink) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

// maxFreeBodies bounds the bodies a metricsSource keeps between scrapes
// (each as large as the exposition): enough for Prometheus and the
// alerting history scraping at the same time.
const maxFreeBodies = 2

// currentEnvs is the read of the scrape in progress, for the registry's
// collectors (called within gather).
func (m *metricsSource) currentEnvs() []proxyrouter.EnvStats { return m.envs }

// gather reads the counters and gathers the registry; callers hold m.mu
// and use the table's samples before they release it.
func (m *metricsSource) gather() ([]*dto.MetricFamily, []tableFamily, error) {
	m.envs = nil
	if m.read != nil {
		m.envs = m.read()
	}
	mfs, err := m.reg.Gather()
	m.table.update(m.envs)
	tfs := m.table.families()
	for _, tf := range tfs {
		if _, found := slices.BinarySearchFunc(mfs, tf.f.name, func(mf *dto.MetricFamily, n string) int { return strings.Compare(mf.GetName(), n) }); found {
			return nil, nil, fmt.Errorf("metric family %s is reported twice", tf.f.name)
		}
	}
	return mfs, tfs, err
}

// release drops the scrape's read once its samples are written, so that
// the counters are not kept until the next scrape; callers hold m.mu.
func (m *metricsSource) release() {
	m.envs = nil
	clear(m.table.durations)
	clear(m.table.routeDurations)
}

// Gather implements prometheus.Gatherer: every family, the big ones built
// afresh (their label pairs are shared between calls and must not be
// changed).
func (m *metricsSource) Gather() ([]*dto.MetricFamily, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.release()
	mfs, tfs, err := m.gather()
	for _, tf := range tfs {
		if mf := tf.dtoFamily(); mf != nil {
			mfs = append(mfs, mf)
		}
	}
	slices.SortFunc(mfs, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return mfs, err
}

// gzipLevel is the compression of a gzipped scrape: the fastest level, as
// the exposition repeats itself so much that it still shrinks 20-fold.
const gzipLevel = gzip.BestSpeed

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzipLevel)
	return w
}}

// ServeHTTP serves the exposition in the format the client accepts
// (expfmt's negotiation, as promhttp's: the text format by default,
// protobuf when asked), gzipped when the client accepts gzip.
func (m *metricsSource) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	format := expfmt.NegotiateAccept(r.Header, expfmt.DefaultAcceptedFormats()...)
	gz := acceptsGzip(r.Header.Values("Accept-Encoding"))
	m.mu.Lock()
	body := &byteSink{}
	if n := len(m.free); n > 0 {
		body, m.free = m.free[n-1], m.free[:n-1]
	}
	body.b = body.b[:0]
	err := m.encode(body, format, gz)
	m.release()
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		if len(m.free) < maxFreeBodies {
			m.free = append(m.free, body)
		}
		m.mu.Unlock()
	}()
	h := w.Header()
	h.Add("Vary", "Accept")
	h.Add("Vary", "Accept-Encoding")
	if err != nil {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "An error has occurred while serving metrics:\n\n%v\n", err)
		return
	}
	h.Set("Content-Type", string(format))
	if gz {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body.b)))
	_, _ = w.Write(body.b)
}

// encode writes every family to out in format, gzipped when gz; callers
// hold m.mu.
func (m *metricsSource) encode(out *byteSink, format expfmt.Format, gz bool) error {
	mfs, tfs, err := m.gather()
	if err != nil {
		return err
	}
	var w interface {
		Write([]byte) (int, error)
	} = out
	var zw *gzip.Writer
	if gz {
		zw = gzipWriters.Get().(*gzip.Writer)
		defer gzipWriters.Put(zw)
		zw.Reset(out)
		w = zw
	}
	enc := expfmt.NewEncoder(w, format)
	text := format.FormatType() == expfmt.TypeTextPlain
	// The protobuf format of client_model's version: escaping only changes
	// names that are not legacy names, and the table's are.
	pb := format.FormatType() == expfmt.TypeProtoDelim
	i := 0
	for _, tf := range tfs {
		for ; i < len(mfs) && mfs[i].GetName() < tf.f.name; i++ {
			if err := enc.Encode(mfs[i]); err != nil {
				return err
			}
		}
		switch {
		case text && zw == nil:
			out.b = tf.appendText(out.b)
		case text:
			m.text = tf.appendText(m.text[:0])
			if _, err := zw.Write(m.text); err != nil {
				return err
			}
		case pb && zw == nil:
			out.b = m.pb.appendFamily(out.b, tf)
		case pb:
			m.text = m.pb.appendFamily(m.text[:0], tf)
			if _, err := zw.Write(m.text); err != nil {
				return err
			}
		default:
			if mf := tf.dtoFamily(); mf != nil {
				if err := enc.Encode(mf); err != nil {
					return err
				}
			}
		}
	}
	for ; i < len(mfs); i++ {
		if err := enc.Encode(mfs[i]); err != nil {
			return err
		}
	}
	if c, ok := enc.(expfmt.Closer); ok {
		if err := c.Close(); err != nil {
			return err
		}
	}
	if zw != nil {
		return zw.Close()
	}
	return nil
}

// acceptsGzip reports whether Accept-Encoding headers allow gzip with a
// q-value above zero: gzip's own, or else that of "*".
func acceptsGzip(headers []string) bool {
	gz, any := -1.0, -1.0
	for _, h := range headers {
		for part := range strings.SplitSeq(h, ",") {
			coding, params, _ := strings.Cut(part, ";")
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				if k, v, ok := strings.Cut(p, "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
						q = f
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip":
				gz = q
			case "*":
				any = q
			}
		}
	}
	if gz >= 0 {
		return gz > 0
	}
	return any > 0
}
