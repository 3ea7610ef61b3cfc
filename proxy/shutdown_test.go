package proxy

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestProxy_HandOverKeptAliveClients: two proxies share one
// listening socket (as the old and new process of an upgrade do); the
// first hands over (HandOver) while clients send POSTs back to back on kept-alive
// connections, which a client does not resend on a new connection when
// the old one is closed under it. None fails: each client's next request
// on its old connection is served with Connection: close, and the next
// one goes to the second proxy.
func TestProxy_ShutdownHandsKeptAliveClientsOver(t *testing.T) {
	up := startUpstream(t, nameServer("up"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	dup, err := net.FileListener(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	old, err := Listen(Options{Listener: ln, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	old.SetTable(table(rev(1, 1, up)))
	url := "http://" + ln.Addr().String() + "/"

	const clients = 8
	var ok, failed atomic.Int64
	var lastErr atomic.Value
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(t)
			for ctx.Err() == nil {
				resp, err := c.Post(url, "text/plain", strings.NewReader("x"))
				if err != nil {
					failed.Add(1)
					lastErr.Store(err.Error())
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				ok.Add(1)
			}
		}()
	}
	eventually(t, "requests through the first proxy", func() bool { return statsOf(old, 1).Requests > 200 })
	// The next proxy starts once the first serves the clients' kept-alive
	// connections (started together, it could accept them all).
	next := startProxy(t, Options{Listener: dup})
	next.SetTable(table(rev(1, 1, up)))
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := old.HandOver(sctx); err != nil {
		t.Errorf("hand over: %v", err)
	}
	after := statsOf(next, 1).Requests
	eventually(t, "requests through the second proxy", func() bool { return statsOf(next, 1).Requests > after+200 })
	stop()
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of %d requests failed across the shutdown (last: %v), want none", n, n+ok.Load(), lastErr.Load())
	}
	if got := statsOf(old, 1).Requests; got < 200 {
		t.Errorf("the first proxy served %d requests, want > 200", got)
	}
}
