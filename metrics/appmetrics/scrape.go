package appmetrics

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Target is one instance to scrape.
type Target struct {
	App, Env string
	Revision int
	Version  string
	// Instance is the instance's ID; Group its group in the revision
	// ("" or "baseline").
	Instance, Group string
	// Addr is where the instance serves, host:port.
	Addr   string
	Config Config
}

// URL is the address scraped.
func (t Target) URL() string { return "http://" + t.Addr + t.Config.WithDefaults().Path }

// acceptHeader asks for Prometheus's text format, the only one read.
const acceptHeader = "text/plain;version=0.0.4;q=1,*/*;q=0.1"

// Fetch scrapes t once: GET its URL within its timeout, read at most
// MaxBodyBytes, and parse the exposition (Prometheus's text format). Names must be Prometheus's classic ones
// ([a-zA-Z_:][a-zA-Z0-9_:]*), which every Prometheus stores.
func Fetch(ctx context.Context, client *http.Client, t Target) ([]*dto.MetricFamily, error) {
	c := t.Config.WithDefaults()
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", acceptHeader)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("GET %s: %s", t.URL(), resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.URL(), err)
	}
	if len(body) > MaxBodyBytes {
		return nil, &Refusal{Reason: BodyTooLarge, Count: len(body), Limit: MaxBodyBytes}
	}
	fams, err := parse(body, resp.Header.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("parse %s (%s): %w", t.URL(), resp.Header.Get("Content-Type"), err)
	}
	return fams, nil
}

// parse decodes an exposition in Prometheus's text format (what the
// scrape asks for); another format is refused, so every family parsed has
// one type and well-formed samples.
func parse(body []byte, contentType string) ([]*dto.MetricFamily, error) {
	if mt, _, err := mime.ParseMediaType(contentType); contentType != "" && (err != nil || mt != "text/plain") {
		return nil, fmt.Errorf("content type %q is not read; serve Prometheus's text format (text/plain) to Accept: text/plain", contentType)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	byName, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out := make([]*dto.MetricFamily, 0, len(byName))
	for _, mf := range byName {
		out = append(out, mf)
	}
	return out, checkNames(out)
}

// checkNames refuses what a Prometheus registry would refuse: names
// that are not classic, a label starting with __ (reserved for
// Prometheus), a label value that is not UTF-8.
func checkNames(fams []*dto.MetricFamily) error {
	for _, mf := range fams {
		if !model.LegacyValidation.IsValidMetricName(mf.GetName()) {
			return fmt.Errorf("metric name %q is not valid", mf.GetName())
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if n := lp.GetName(); !model.LegacyValidation.IsValidLabelName(n) || strings.HasPrefix(n, "__") {
					return fmt.Errorf("metric %s: label name %q is not valid", mf.GetName(), n)
				}
				if !utf8.ValidString(lp.GetValue()) {
					return fmt.Errorf("metric %s: label %s: value %q is not UTF-8", mf.GetName(), lp.GetName(), lp.GetValue())
				}
			}
		}
	}
	return nil
}
