package server_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/encoding/protodelim"

	"github.com/gantry-dev/gantry/dataplane"
	"github.com/gantry-dev/gantry/router"
)

// TestScrape_dataPlaneProcessAtScale runs `gantry server` with its `gantry
// proxy` process serving GANTRY_SCRAPE_APPS (default 100) more apps of 3
// revisions and 20 route templates each (programmed on the data plane's
// control socket), sends requests to every route, then scrapes /metrics
// as Prometheus does (text gzipped, protobuf gzipped, and the plain text)
// and logs the data plane's CPU while idle before the scrapes (over
// GANTRY_SCRAPE_IDLE seconds, default 2) and, per scrape, the wall time, the CPU time of the server and of
// the data plane process, and the bytes. It checks that the scrape counts
// every request sent and has every route's histogram. It takes a minute:
// bench/scrape.sh runs it (GANTRY_SCRAPE_E2E=1); `go test` skips it.
func TestScrape_dataPlaneProcessAtScale(t *testing.T) {
	if os.Getenv("GANTRY_SCRAPE_E2E") == "" {
		t.Skip("GANTRY_SCRAPE_E2E is not set (bench/scrape.sh sets it)")
	}
	apps, scrapes := envInt(t, "GANTRY_SCRAPE_APPS", 100), envInt(t, "GANTRY_SCRAPE_REPS", 10)
	data, srv, _ := dataPlaneServer(t)
	dp := dataplane.NewClient(filepath.Join(data, dataplane.SocketFile))
	defer dp.CloseIdle()
	rec, err := dataplane.ReadRecord(data)
	if err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	up := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })}
	go up.Serve(ln)
	defer up.Close()

	var templates []string
	for i := range 20 {
		templates = append(templates, fmt.Sprintf("/api/resource%02d/{id}", i))
	}
	var addrs []string
	for a := range apps {
		e := dataplane.Environment{App: fmt.Sprintf("scale%03d", a), Name: "prod", Version: 1, RouteTemplates: templates}
		for r := 1; r <= 3; r++ {
			e.Routes = append(e.Routes, router.Route{Revision: r, Version: "v" + strconv.Itoa(r), Weight: 1,
				Endpoints: []router.Endpoint{{ID: "up", Addr: ln.Addr().String()}}})
		}
		st, err := dp.Apply(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, st.Addr)
	}

	// Every route of every app, 6 requests each (and as many to no template).
	var paths []string
	for _, tpl := range templates {
		paths = append(paths, strings.Replace(tpl, "{id}", "7", 1))
	}
	paths = append(paths, "/elsewhere")
	jobs := make(chan string)
	var wg sync.WaitGroup
	var failed sync.Once
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: 10 * time.Second}
	for range 16 {
		wg.Go(func() {
			for u := range jobs {
				resp, err := hc.Get(u)
				if err != nil {
					failed.Do(func() { t.Errorf("GET %s: %v", u, err) })
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	sent := 0
	for range 6 {
		for _, addr := range addrs {
			for _, p := range paths {
				jobs <- "http://" + addr + p
				sent++
			}
		}
	}
	close(jobs)
	wg.Wait()

	// The scrape counts every request (the proxy counts a request as its
	// response ends: wait for the count, not for a moment).
	var mfs map[string]*dto.MetricFamily
	for deadline := time.Now().Add(30 * time.Second); ; {
		_, body := scrapeAs(t, srv, "", "")
		p := expfmt.NewTextParser(model.UTF8Validation)
		if mfs, err = p.TextToMetricFamilies(bytes.NewReader(body)); err != nil {
			t.Fatal(err)
		}
		if n := routeRequests(mfs); n == sent || time.Now().After(deadline) {
			if n != sent {
				t.Fatalf("gantry_route_requests_total of the scale apps: %d, want the %d requests sent", n, sent)
			}
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	hists := 0
	for _, m := range mfs["gantry_route_request_duration_seconds"].GetMetric() {
		if strings.HasPrefix(label(m, "app"), "scale") {
			hists++
		}
	}
	if hists != apps*3*21 {
		t.Errorf("%d route histograms of the scale apps, want %d (3 revisions × 21 route labels each)", hists, apps*3*21)
	}

	// What the data plane spends with nothing to do, for comparison with
	// its CPU time per scrape below: GANTRY_SCRAPE_IDLE seconds (default 2).
	secs := envInt(t, "GANTRY_SCRAPE_IDLE", 2)
	t.Logf("SCRAPE data plane (PID %d) idle for %d s", rec.PID, secs)
	idle := procCPU(t, rec.PID)
	time.Sleep(time.Duration(secs) * time.Second)
	t.Logf("SCRAPE data plane CPU while idle: %v per second", (procCPU(t, rec.PID)-idle)/time.Duration(secs))

	for _, f := range []struct{ name, accept, encoding string }{
		{"text-gzip", "text/plain;version=0.0.4;q=0.5,*/*;q=0.1", "gzip"},
		{"protobuf-gzip", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,*/*;q=0.1", "gzip"},
		{"text", "text/plain;version=0.0.4;q=0.5,*/*;q=0.1", "identity"},
	} {
		var walls []time.Duration
		var size int
		srvCPU, dpCPU := procCPU(t, srv.cmd.Process.Pid), procCPU(t, rec.PID)
		for range scrapes {
			start := time.Now()
			resp, body := scrapeAs(t, srv, f.accept, f.encoding)
			walls = append(walls, time.Since(start))
			size = len(body)
			if f.name == "protobuf-gzip" {
				checkProtobuf(t, resp, body)
			}
		}
		srvCPU, dpCPU = procCPU(t, srv.cmd.Process.Pid)-srvCPU, procCPU(t, rec.PID)-dpCPU
		load, _ := os.ReadFile("/proc/loadavg")
		t.Logf("SCRAPE %-14s %d series of routes, %8d bytes, wall median %v max %v; CPU per scrape: server %v, data plane %v; load %s",
			f.name, hists, size, median(walls), maxOf(walls), srvCPU/time.Duration(scrapes), dpCPU/time.Duration(scrapes), strings.Join(strings.Fields(string(load))[:3], " "))
	}
}

// scrapeAs reads the server's /metrics with the given Accept and
// Accept-Encoding (empty: Go's defaults), returning the body as sent.
func scrapeAs(t *testing.T, srv *serverProc, accept, encoding string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+srv.token)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	resp, err := (&http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableCompression: encoding != ""}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v %.200s", resp.StatusCode, err, body)
	}
	return resp, body
}

// routeRequests sums gantry_route_requests_total of the scale apps.
func routeRequests(mfs map[string]*dto.MetricFamily) int {
	n := 0.0
	for _, m := range mfs["gantry_route_requests_total"].GetMetric() {
		if strings.HasPrefix(label(m, "app"), "scale") {
			n += m.GetCounter().GetValue()
		}
	}
	return int(n)
}

// checkProtobuf decodes a gzipped protobuf scrape to its end.
func checkProtobuf(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	if resp.Header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/vnd.google.protobuf") {
		t.Fatalf("protobuf scrape: Content-Type %q, Content-Encoding %q", resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(zr)
	for {
		var mf dto.MetricFamily
		if err := protodelim.UnmarshalFrom(br, &mf); err == io.EOF {
			return
		} else if err != nil {
			t.Fatalf("protobuf scrape: %v", err)
		}
	}
}

// procCPU is a process's user and system CPU time so far (/proc, in
// clock ticks of 10ms).
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func maxOf(d []time.Duration) time.Duration { return slices.Max(d) }
