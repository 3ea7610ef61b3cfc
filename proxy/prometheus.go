package proxy

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// WritePrometheus writes the per-revision stats in the Prometheus text
// exposition format (version 0.0.4):
//
//   - gantry_proxy_requests_total{proxy,revision,version,code_class}: counter of
//     finished requests; code_class is 1xx..5xx, or "client_closed" (499) for
//     clients that went away;
//
//   - gantry_proxy_errors_total{proxy,revision,version}: 502/503/504 the proxy
//     produced itself (also counted in code_class="5xx");
//
//   - gantry_proxy_in_flight{proxy,revision,version}: gauge of requests in flight;
//
//   - gantry_proxy_request_duration_seconds{proxy,revision,version}: histogram
//     of request durations with one bucket per doubling from 100µs.
//
//   - gantry_proxy_rejected_total{proxy,reason}: counter of requests refused
//     for the client's fault (malformed, timed out; see Reason), which no
//     revision's counters include.
//
// Revision "0" carries the requests no revision could take. Write errors
// are ignored (the writer is usually an HTTP response).
func (p *Proxy) WritePrometheus(w io.Writer) {
	bw := bufio.NewWriter(w)
	stats := p.Stats()
	labels := make([]string, len(stats))
	for i, s := range stats {
		labels[i] = `proxy="` + escapeLabel(p.opts.Name) + `",revision="` + strconv.Itoa(s.Revision) +
			`",version="` + escapeLabel(s.Version) + `"`
	}

	bw.WriteString("# HELP gantry_proxy_requests_total Requests finished, by revision and status class.\n")
	bw.WriteString("# TYPE gantry_proxy_requests_total counter\n")
	for i, s := range stats {
		for _, c := range []struct {
			class string
			n     uint64
		}{
			{"2xx", s.Status2xx}, {"3xx", s.Status3xx}, {"4xx", s.Status4xx}, {"5xx", s.Status5xx},
			{"1xx", s.Requests - s.Status2xx - s.Status3xx - s.Status4xx - s.Status5xx - s.ClientClosed},
			{"client_closed", s.ClientClosed},
		} {
			writeSample(bw, "gantry_proxy_requests_total", labels[i]+`,code_class="`+c.class+`"`, strconv.FormatUint(c.n, 10))
		}
	}

	bw.WriteString("# HELP gantry_proxy_errors_total Error responses produced by the proxy itself (502, 503, 504).\n")
	bw.WriteString("# TYPE gantry_proxy_errors_total counter\n")
	for i, s := range stats {
		writeSample(bw, "gantry_proxy_errors_total", labels[i], strconv.FormatUint(s.ProxyErrors, 10))
	}

	bw.WriteString("# HELP gantry_proxy_in_flight Requests being served.\n")
	bw.WriteString("# TYPE gantry_proxy_in_flight gauge\n")
	for i, s := range stats {
		writeSample(bw, "gantry_proxy_in_flight", labels[i], strconv.FormatInt(s.InFlight, 10))
	}

	bw.WriteString("# HELP gantry_proxy_request_duration_seconds Time from request head read to response body sent.\n")
	bw.WriteString("# TYPE gantry_proxy_request_duration_seconds histogram\n")
	for i, s := range stats {
		var cum uint64
		for b := 0; b < HistogramBuckets-1; b++ {
			cum += s.Latency.Counts[b]
			if b%histSubBuckets != 0 {
				continue
			}
			le := strconv.FormatFloat(UpperBound(b).Seconds(), 'g', -1, 64)
			writeSample(bw, "gantry_proxy_request_duration_seconds_bucket", labels[i]+`,le="`+le+`"`, strconv.FormatUint(cum, 10))
		}
		count := s.Latency.Count()
		writeSample(bw, "gantry_proxy_request_duration_seconds_bucket", labels[i]+`,le="+Inf"`, strconv.FormatUint(count, 10))
		writeSample(bw, "gantry_proxy_request_duration_seconds_sum", labels[i], strconv.FormatFloat(s.Latency.Sum.Seconds(), 'g', -1, 64))
		writeSample(bw, "gantry_proxy_request_duration_seconds_count", labels[i], strconv.FormatUint(count, 10))
	}

	bw.WriteString("# HELP gantry_proxy_rejected_total Requests refused for the client's fault, by reason; never counted to a revision.\n")
	bw.WriteString("# TYPE gantry_proxy_rejected_total counter\n")
	for _, r := range p.Rejections() {
		writeSample(bw, "gantry_proxy_rejected_total", `proxy="`+escapeLabel(p.opts.Name)+`",reason="`+r.Reason.String()+`"`, strconv.FormatUint(r.Count, 10))
	}
	bw.Flush()
}

func writeSample(w *bufio.Writer, name, labels, value string) {
	w.WriteString(name)
	w.WriteByte('{')
	w.WriteString(labels)
	w.WriteString("} ")
	w.WriteString(value)
	w.WriteByte('\n')
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
