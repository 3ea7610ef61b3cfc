package proxy

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestProxy_WeightedSplit(t *testing.T) {
	stable := startUpstream(t, nameServer("stable"))
	canary := startUpstream(t, nameServer("canary"))
	p := startProxy(t, Options{})
	p.SetTable(table(rev(1, 95, stable), rev(2, 5, canary), rev(3, 0, canary), rev(4, 50)))
	c := newClient(t)
	const n = 4000
	got := map[string]int{}
	for i := 0; i < n; i++ {
		code, body, _ := get(t, c, "http://"+p.Addr()+"/")
		if code != 200 {
			t.Fatalf("request %d: status %d", i, code)
		}
		got[body]++
	}
	// Expected 200 canary requests, standard deviation about 14: accept ±7σ.
	if got["canary"] < 100 || got["canary"] > 300 || got["stable"]+got["canary"] != n {
		t.Errorf("split = %v, want about 3800 stable / 200 canary", got)
	}
	s1, s2 := settledStats(t, p, 1), settledStats(t, p, 2)
	if s1.Requests != uint64(got["stable"]) || s2.Requests != uint64(got["canary"]) {
		t.Errorf("stats requests = %d/%d, want %d/%d", s1.Requests, s2.Requests, got["stable"], got["canary"])
	}
	if s1.Status2xx != s1.Requests || s1.Version != "v1" || s1.Latency.Count() != s1.Requests {
		t.Errorf("stats of revision 1 = %+v", s1)
	}
}

func TestProxy_NoReadyEndpoint(t *testing.T) {
	up := startUpstream(t, nameServer("x"))
	for name, tb := range map[string]Table{
		"empty table":   {},
		"zero weight":   table(rev(1, 0, up)),
		"no endpoints":  table(rev(1, 100)),
		"both problems": table(rev(1, 0), rev(2, 100)),
	} {
		t.Run(name, func(t *testing.T) {
			p := startProxy(t, Options{})
			p.SetTable(tb)
			code, body, resp := get(t, newClient(t), "http://"+p.Addr()+"/")
			if code != 503 || resp.Header.Get("Retry-After") != "1" || body == "" {
				t.Errorf("got %d %q Retry-After=%q, want 503 with a body and Retry-After: 1", code, body, resp.Header.Get("Retry-After"))
			}
			if s := settledStats(t, p, 0); s.ProxyErrors != 1 || s.Status5xx != 1 {
				t.Errorf("stats of revision 0 = %+v, want one proxy error", s)
			}
		})
	}
}

func TestProxy_RefusedEndpointIsRetried(t *testing.T) {
	var hits atomic.Int64
	good := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("ok"))
	}))
	p := startProxy(t, Options{MaxIdlePerEndpoint: -1}) // dial every time
	p.SetTable(table(rev(1, 100, refusedAddr(t), good, refusedAddr(t))))
	c := newClient(t)
	for i := 0; i < 30; i++ {
		if code, body, _ := get(t, c, "http://"+p.Addr()+"/"); code != 200 || body != "ok" {
			t.Fatalf("request %d: got %d %q, want 200 ok", i, code, body)
		}
	}
	if hits.Load() != 30 {
		t.Errorf("upstream saw %d requests, want 30", hits.Load())
	}

	t.Run("all refused", func(t *testing.T) {
		p.SetTable(table(rev(1, 100, refusedAddr(t)), rev(2, 100, refusedAddr(t))))
		if code, _, _ := get(t, c, "http://"+p.Addr()+"/"); code != 502 {
			t.Errorf("got %d, want 502", code)
		}
	})

	t.Run("other revision takes over", func(t *testing.T) {
		p.SetTable(table(rev(1, 100, refusedAddr(t)), rev(2, 1, good)))
		for i := 0; i < 10; i++ {
			if code, _, _ := get(t, c, "http://"+p.Addr()+"/"); code != 200 {
				t.Errorf("got %d, want 200", code)
			}
		}
	})
}

func TestProxy_RequestSeenByDyingUpstreamIsNotRetried(t *testing.T) {
	var dyingHits atomic.Int64
	dying := startRaw(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readRequestHead(br); err == nil {
			dyingHits.Add(1) // saw the request, then dies without answering
		}
	})
	var goodHits atomic.Int64
	good := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		goodHits.Add(1)
	}))
	p := startProxy(t, Options{})
	p.SetTable(table(rev(1, 100, dying.addr(), good)))
	c := newClient(t)
	var bad, ok int64
	for i := 0; i < 40; i++ {
		code, _, _ := get(t, c, "http://"+p.Addr()+"/")
		switch code {
		case 502:
			bad++
		case 200:
			ok++
		default:
			t.Fatalf("request %d: status %d", i, code)
		}
	}
	if bad == 0 {
		t.Fatal("no request reached the dying upstream; the test proves nothing")
	}
	if dyingHits.Load() != bad || goodHits.Load() != ok {
		t.Errorf("dying upstream saw %d, good saw %d; clients got %d×502 and %d×200: a request was sent twice",
			dyingHits.Load(), goodHits.Load(), bad, ok)
	}
	if s := settledStats(t, p, 1); s.ProxyErrors != uint64(bad) || s.Status5xx != uint64(bad) {
		t.Errorf("stats = %+v, want %d proxy errors", s, bad)
	}
}

func TestProxy_StaleKeepAlive(t *testing.T) {
	// The upstream answers one request per connection as if keeping it
	// alive, then closes it: the proxy's pooled connection goes stale.
	var hits atomic.Int64
	closed := make(chan struct{}, 10)
	up := startRaw(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := readRequestHead(br); err != nil {
			return
		}
		hits.Add(1)
		c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		c.Close()
		closed <- struct{}{}
	})
	// It looks into the goroutines' pool; an event loop's is its own.
	p := startProxy(t, Options{EventLoops: -1})
	p.SetTable(table(rev(1, 100, up.addr())))
	c := newClient(t)
	for i := 0; i < 5; i++ {
		if code, body, _ := get(t, c, "http://"+p.Addr()+"/"); code != 200 || body != "ok" {
			t.Fatalf("request %d: got %d %q, want 200 ok", i, code, body)
		}
		<-closed
		// Let the connection return to the pool (just after the response
		// reached the client) and the FIN reach the proxy's side of it.
		eventually(t, "pooled connection to look closed", func() bool {
			p.mu.Lock()
			ep := p.endpoints[up.addr()]
			p.mu.Unlock()
			ep.mu.Lock()
			defer ep.mu.Unlock()
			if len(ep.idle) == 0 {
				return false
			}
			uc := ep.idle[len(ep.idle)-1]
			return time.Since(uc.idleSince) > peekAfterIdle && !uc.open()
		})
	}
	if hits.Load() != 5 {
		t.Errorf("upstream saw %d requests, want 5", hits.Load())
	}
}

func TestProxy_StaleKeepAliveWriteFails(t *testing.T) {
	// A reused connection whose first write fails with nothing written is
	// replaced by a fresh one, once. Simulate it: the pooled connection is
	// closed locally so the write fails before any byte leaves.
	var hits atomic.Int64
	up := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("ok"))
	}))
	p := startProxy(t, Options{})
	p.SetTable(table(rev(1, 100, up)))
	ep := p.endpoints[up]
	uc, err := ep.dial()
	if err != nil {
		t.Fatal(err)
	}
	uc.rio.raw = nil // skip the liveness peek so the write is what fails
	uc.conn.(*net.TCPConn).CloseWrite()
	ep.put(uc)
	code, body, _ := get(t, newClient(t), "http://"+p.Addr()+"/")
	if code != 200 || body != "ok" || hits.Load() != 1 {
		t.Errorf("got %d %q with %d upstream hits, want 200 ok with 1", code, body, hits.Load())
	}
}

func TestProxy_StickyCookie(t *testing.T) {
	a := startUpstream(t, nameServer("a"))
	b := startUpstream(t, nameServer("b"))
	p := startProxy(t, Options{StickyCookie: "gantry_rev"})
	p.SetTable(table(rev(1, 50, a), rev(2, 50, b)))
	c := newClient(t)
	url := "http://" + p.Addr() + "/"

	_, first, resp := get(t, c, url)
	cookie := resp.Header.Get("Set-Cookie")
	wantRev := map[string]string{"a": "1", "b": "2"}[first]
	if cookie != "gantry_rev="+wantRev+"; Path=/; HttpOnly" {
		t.Fatalf("Set-Cookie = %q after being served by %s", cookie, first)
	}
	for i := 0; i < 30; i++ {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Cookie", "other=1; gantry_rev="+wantRev)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		bufio.NewReader(resp.Body).WriteTo(&sb)
		resp.Body.Close()
		if sb.String() != first || resp.Header.Get("Set-Cookie") != "" {
			t.Fatalf("request %d with cookie: served by %q (Set-Cookie %q), want %q and no new cookie",
				i, sb.String(), resp.Header.Get("Set-Cookie"), first)
		}
	}

	// The pinned revision loses its weight: the client moves and is re-pinned.
	other, otherRev := "b", "2"
	if first == "b" {
		other, otherRev = "a", "1"
	}
	if first == "a" {
		p.SetTable(table(rev(1, 0, a), rev(2, 50, b)))
	} else {
		p.SetTable(table(rev(1, 50, a), rev(2, 0, b)))
	}
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Cookie", "gantry_rev="+wantRev)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Set-Cookie"); got != "gantry_rev="+otherRev+"; Path=/; HttpOnly" {
		t.Errorf("after revision %s lost its weight: Set-Cookie %q, want a pin to %s (%s)", wantRev, got, otherRev, other)
	}
}

func TestProxy_SetTableUnderLoad(t *testing.T) {
	ups := []string{
		startUpstream(t, nameServer("a")), startUpstream(t, nameServer("b")),
		startUpstream(t, nameServer("c")), startUpstream(t, nameServer("d")),
	}
	tables := []Table{
		table(rev(1, 100, ups[0], ups[1])),
		table(rev(1, 90, ups[0], ups[1]), rev(2, 10, ups[2])),
		table(rev(1, 50, ups[1]), rev(2, 50, ups[2], ups[3])),
		table(rev(2, 100, ups[3])),
		table(rev(3, 1, ups[0]), rev(2, 3, ups[2], ups[3])),
	}
	p := startProxy(t, Options{})
	p.SetTable(tables[0])
	c := newClient(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var failures, total atomic.Int64
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := c.Get("http://" + p.Addr() + "/")
				total.Add(1)
				if err != nil {
					failures.Add(1)
					t.Errorf("request: %v", err)
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failures.Add(1)
					t.Errorf("status %d", resp.StatusCode)
				}
			}
		}()
	}
	for i := 0; i < 200; i++ {
		p.SetTable(tables[i%len(tables)])
		time.Sleep(time.Millisecond)
	}
	eventually(t, "some traffic", func() bool { return total.Load() > 500 })
	close(stop)
	wg.Wait()
	if failures.Load() != 0 {
		t.Errorf("%d of %d requests failed while the table changed", failures.Load(), total.Load())
	}
}

func TestProxy_WaitIdle(t *testing.T) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	up := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		w.Write([]byte("done"))
	}))
	p := startProxy(t, Options{})
	p.SetTable(table(rev(1, 100, up)))
	result := make(chan string, 1)
	go func() {
		_, body, _ := get(t, newClient(t), "http://"+p.Addr()+"/")
		result <- body
	}()
	<-arrived
	p.SetTable(Table{}) // drain: no new requests go there

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.WaitIdle(ctx, up); err == nil {
		t.Fatal("WaitIdle returned with a request in flight")
	}
	if s := statsOf(p, 1); s.InFlight != 1 || p.InFlight() != 1 {
		t.Errorf("in flight = %d, Proxy.InFlight %d, want 1", s.InFlight, p.InFlight())
	}
	close(release)
	if err := p.WaitIdle(context.Background(), up); err != nil {
		t.Fatalf("WaitIdle: %v", err)
	}
	eventually(t, "Proxy.InFlight to reach 0", func() bool { return p.InFlight() == 0 })
	if body := <-result; body != "done" {
		t.Errorf("drained request got %q, want done", body)
	}
	if err := p.WaitIdle(context.Background(), "127.0.0.1:1"); err != nil {
		t.Errorf("WaitIdle on an unknown endpoint: %v", err)
	}
}
