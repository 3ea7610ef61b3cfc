package server_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gantry-dev/gantry/api"
)

// scrape reads the server's /metrics as an admin would.
func scrape(t *testing.T, e *env) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.APIURL()+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return mfs
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// revisionTraffic returns the status API's traffic per revision.
func revisionTraffic(t *testing.T, e *env) map[string]api.RevisionTraffic {
	t.Helper()
	st, err := e.c.Status(context.Background(), "web", "prod")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]api.RevisionTraffic{}
	for _, r := range st.Revisions {
		out[strconv.Itoa(r.Number)] = r.Traffic
	}
	return out
}

func TestMetrics_perRevisionCountersAgreeWithStatus(t *testing.T) {
	e := startServer(t, 60)
	l, stop := e.load(t)
	time.Sleep(1500 * time.Millisecond)
	stop()
	if l.Total() == 0 {
		t.Fatal("the load sent no request")
	}
	// The proxy counts a request once it has written the response, which
	// can be just after the client has read it: wait until every request
	// the load sent is counted before comparing the two views.
	waitFor(t, 10*time.Second, "the status API to count every request the load sent", func() bool {
		return revisionTraffic(t, e)["1"].Requests >= l.Total()
	})
	mfs := scrape(t, e)
	want := revisionTraffic(t, e)

	requests, errors := map[string]uint64{}, map[string]uint64{}
	for _, m := range mfs["gantry_requests_total"].GetMetric() {
		if label(m, "app") != "web" || label(m, "env") != "prod" {
			t.Errorf("gantry_requests_total: labels %v, want app web, env prod", m.GetLabel())
		}
		rev := label(m, "revision")
		requests[rev] += uint64(m.GetCounter().GetValue())
		if label(m, "code_class") == "5xx" {
			errors[rev] += uint64(m.GetCounter().GetValue())
		}
	}
	if want["1"].Requests == 0 {
		t.Fatalf("status API: revision 1 served nothing: %+v", want)
	}
	for rev, tr := range want {
		if requests[rev] != tr.Requests || errors[rev] != tr.Errors {
			t.Errorf("revision %s: /metrics %d requests, %d 5xx; status API %d, %d", rev, requests[rev], errors[rev], tr.Requests, tr.Errors)
		}
	}
	var histCount uint64
	for _, m := range mfs["gantry_request_duration_seconds"].GetMetric() {
		if label(m, "revision") == "1" {
			h := m.GetHistogram()
			histCount = h.GetSampleCount()
			if n := len(h.GetBucket()); n != 22 {
				t.Errorf("duration histogram: %d buckets, want 22 (one per doubling and +Inf)", n)
			}
			if label(m, "version") != "v1" {
				t.Errorf("duration histogram: version %q, want v1", label(m, "version"))
			}
		}
	}
	if histCount != want["1"].Requests {
		t.Errorf("duration histogram of revision 1 counts %d, want %d requests", histCount, want["1"].Requests)
	}
	ready := 0
	for _, m := range mfs["gantry_instance_ready"].GetMetric() {
		if m.GetGauge().GetValue() == 1 && label(m, "revision") == "1" {
			ready++
		}
	}
	if ready != 3 {
		t.Errorf("gantry_instance_ready: %d ready instances of revision 1, want 3", ready)
	}
	if got := len(mfs["gantry_instance_memory_bytes"].GetMetric()); got != 3 {
		t.Errorf("gantry_instance_memory_bytes: %d series, want 3", got)
	}
}
