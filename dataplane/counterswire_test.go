package dataplane

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/metrics/activeusers"
	"github.com/gantry-dev/gantry/proxy"
	"github.com/gantry-dev/gantry/router"
)

// serveControl serves h on a control socket until the test ends and
// returns a Client of it.
func serveControl(t *testing.T, h http.Handler) *Client {
	t.Helper()
	path := filepath.Join(t.TempDir(), "control.sock")
	ln, err := ListenControl(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = Serve(ctx, ln, h, t.Logf) }()
	c := NewClient(path)
	t.Cleanup(func() { c.CloseIdle(); cancel(); <-done })
	return c
}

// rawCounters reads GET /v1/counters with the given headers.
func rawCounters(t *testing.T, c *Client, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://gantry-proxy/v1/counters", nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err != nil {
		t.Fatalf("GET /v1/counters: %v", err)
	}
	return resp, b
}

// busyPlane is a Plane serving two environments, one counting routes,
// after some requests through each.
func busyPlane(t *testing.T) *Plane {
	t.Helper()
	p := New(Options{Logf: t.Logf})
	t.Cleanup(func() { p.Close(context.Background()) })
	a, b := upstream(t, "a"), upstream(t, "b")
	web := shopProd(1, a)
	web.RouteTemplates = []string{"/users/{id}", "/health"}
	web.Routes = append(web.Routes, router.Route{Revision: 2, Version: "v2\"é", Weight: 1, Endpoints: []router.Endpoint{{ID: "b", Addr: b}}})
	api := Environment{App: "api", Name: "staging", Version: 1, Routes: []router.Route{
		{Revision: 4, Version: "v4", Weight: 1, Endpoints: []router.Endpoint{{ID: "b", Addr: b}}}}}
	for _, e := range []Environment{web, api} {
		st, err := p.Apply(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/", "/users/1", "/users/2", "/health", "/x/y"} {
			resp, err := http.Get("http://" + st.Addr + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	// A request is counted once its response is written, which can be
	// just after the client has read it: wait until none is in flight, so
	// that every read of the counters agrees.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		l, err := p.Check(context.Background())
		if err == nil && l.InFlight == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("requests still in flight after 10s: %+v, %v", l, err)
		}
	}
	return p
}

func TestCounters_version2ReadsAsJSON(t *testing.T) {
	p := busyPlane(t)
	c := serveControl(t, Handler(p, nil))

	// JSON, as an older reader asks (no Accept).
	resp, body := rawCounters(t, c, nil)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("no Accept: Content-Type %q, want JSON", ct)
	}
	var want Counters
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatal(err)
	}
	if len(want.Environments) != 2 || len(want.Environments[1].Routes) == 0 || len(want.Environments[1].Users) == 0 {
		t.Fatalf("JSON counters %+v: want 2 environments, routes and users in shop/prod", want)
	}

	// Version 2, first read: the index comes along.
	got, err := c.Counters(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("version 2 read differs from JSON:\n got %+v\nwant %+v", got, want)
	}
	held := c.indexes["/v1/counters"]
	if held == nil {
		t.Fatal("the client keeps no series index after a version 2 read")
	}

	// The same series again: the answer leaves the index out.
	resp, full := rawCounters(t, c, map[string]string{"Accept": CountersMediaType})
	_, short := rawCounters(t, c, map[string]string{"Accept": CountersMediaType, CountersIndexHeader: held.hexID()})
	if resp.Header.Get("Content-Type") != CountersMediaType || len(short) >= len(full) {
		t.Errorf("with the index held: %d bytes, without %d (%s); want fewer", len(short), len(full), resp.Header.Get("Content-Type"))
	}
	if _, _, err := decodeCounters(short, nil); err != errIndexNotHeld {
		t.Errorf("decode without the index held: %v, want errIndexNotHeld", err)
	}

	// New series (another route template): the index changes, and the
	// client still reads what JSON says.
	web := shopProd(2, upstream(t, "c"))
	web.RouteTemplates = []string{"/orders/{id}"}
	if _, err := p.Apply(context.Background(), web); err != nil {
		t.Fatal(err)
	}
	got, err = c.Counters(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	_, body = rawCounters(t, c, nil)
	want = Counters{}
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after new series, version 2 read differs from JSON:\n got %+v\nwant %+v", got, want)
	}
	if c.indexes["/v1/counters"] == held {
		t.Error("the client kept the old series index after the series changed")
	}

	// One environment's read keeps its own index.
	one, err := c.Counters(context.Background(), "api", "staging")
	if err != nil || len(one.Environments) != 1 || one.Environments[0].App != "api" {
		t.Fatalf("api/staging: %+v, %v", one, err)
	}
	if len(c.indexes) != 2 {
		t.Errorf("%d indexes kept, want 2 (every environment, api/staging)", len(c.indexes))
	}
}

// A data plane older than version 2 answers JSON whatever the Accept
// header says; the client reads it.
func TestCounters_olderDataPlaneAnswersJSON(t *testing.T) {
	p := busyPlane(t)
	older := http.NewServeMux()
	older.HandleFunc("GET /v1/counters", func(w http.ResponseWriter, r *http.Request) {
		c, _ := p.Counters(r.Context(), r.FormValue("app"), r.FormValue("env"))
		reply(w, http.StatusOK, c)
	})
	c := serveControl(t, older)
	got, err := c.Counters(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := p.Counters(context.Background(), "", "")
	// Only in-flight and time-dependent parts may move between the reads.
	if len(got.Environments) != 2 || got.Boot.ID != want.Boot.ID || got.Environments[1].Revisions[0].Requests != want.Environments[1].Revisions[0].Requests {
		t.Errorf("from an older data plane: %+v, want %+v", got, want)
	}
	if len(c.indexes) != 0 {
		t.Errorf("the client keeps %d series indexes from JSON answers", len(c.indexes))
	}
}

func TestCounters_roundTrip(t *testing.T) {
	dense := make(activeusers.Sketch, activeusers.Registers)
	for i := range dense {
		dense[i] = byte(1 + i%7)
	}
	var sparse activeusers.Sketch
	for i := range 50 {
		sparse.Add(uint64(i) * 0x9e3779b97f4a7c15)
	}
	var h proxy.Histogram
	h.Counts[0], h.Counts[7], h.Counts[proxy.HistogramBuckets-1] = 3, 1<<40, 9
	h.Sum = 123456789 * time.Microsecond
	var full proxy.Histogram
	for i := range full.Counts {
		full.Counts[i] = uint64(i * i)
	}
	c := Counters{
		Boot: Boot{ID: "b1", StartedAt: time.Unix(1700000000, 5).UTC(), PID: 42, Binary: "x", Succeeded: &Succession{}},
		Environments: []EnvCounters{
			{App: "a", Env: "e", Epoch: 3, DroppedRouteLabels: 2,
				Revisions:  []proxy.RevisionStats{{Revision: 0}, {Revision: 7, Group: "baseline", Version: "v7", Requests: 10, Status2xx: 9, Status5xx: 1, ProxyErrors: 1, InFlight: -1, Latency: h}},
				Rejections: []proxy.Rejection{{Reason: 1, Count: 5}, {Reason: 2}},
				Routes:     []proxy.RouteStats{{Revision: 7, Group: "baseline", Version: "v7", Route: "/x/{id}", Requests: 4, ClientClosed: 4, Latency: full}},
				Users:      []proxy.UserStats{{Revision: 7, Version: "v7", Window: time.Minute, Users: dense}, {Revision: 8, Users: sparse}, {Revision: 9}}},
			{App: "b", Env: "e", Revisions: []proxy.RevisionStats{}, Rejections: []proxy.Rejection{}},
		},
	}
	got, idx, b := roundTrip(t, c)
	if !reflect.DeepEqual(got, c) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, c)
	}
	// Values only, against the index held.
	short, _ := encodeCounters(c, idx.hexID())
	if again, _, err := decodeCounters(short, idx); err != nil || !reflect.DeepEqual(again, c) || len(short) >= len(b) {
		t.Errorf("values only (%d bytes of %d): %+v, %v", len(short), len(b), again, err)
	}
	// Every truncation and a byte changed anywhere: an error or a
	// message, never a panic.
	for n := range len(b) {
		if _, _, err := decodeCounters(b[:n], nil); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(b))
		}
	}
	for i := range b {
		m := bytes.Clone(b)
		m[i] ^= 0xa5
		_, _, _ = decodeCounters(m, idx)
	}
}

// roundTrip encodes c with its index and decodes it.
func roundTrip(tb testing.TB, c Counters) (Counters, *countersIndex, []byte) {
	tb.Helper()
	b, err := encodeCounters(c, "")
	if err != nil {
		tb.Fatal(err)
	}
	got, idx, err := decodeCounters(b, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return got, idx, b
}

// TestCounters_version2CarriesEveryField fails when a field is added to
// the counters without being added to version 2 (encodeCounters,
// decodeCounters): a reader of version 2 would silently lose it.
func TestCounters_version2CarriesEveryField(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{Counters{}, "Boot Environments"},
		{EnvCounters{}, "App Env Epoch Revisions Rejections Routes DroppedRouteLabels Users"},
		{proxy.RevisionStats{}, "Revision Group Version Requests Status2xx Status3xx Status4xx Status5xx ClientClosed ProxyErrors InFlight Latency"},
		{proxy.RouteStats{}, "Revision Group Version Route Requests Status2xx Status3xx Status4xx Status5xx ClientClosed Latency"},
		{proxy.UserStats{}, "Revision Group Version Window Users"},
		{proxy.Rejection{}, "Reason Count"},
		{proxy.Histogram{}, "Counts Sum"},
	} {
		var got []string
		for f := range reflect.TypeOf(c.v).Fields() {
			got = append(got, f.Name)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%T has fields %v; version 2 of the counters read carries %s: add the new ones to counterswire.go", c.v, got, c.want)
		}
	}
}
