package proxy

import (
	"bufio"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

func TestProxy_ReusesUpstreamConnections(t *testing.T) {
	var conns atomic.Int64
	fixed := fixedResponder("ok")
	up := startRaw(t, func(c net.Conn, br *bufio.Reader) {
		conns.Add(1)
		fixed(c, br)
	})
	p := startProxy(t, Options{})
	p.SetTable(table(rev(1, 100, up.addr())))
	c := newClient(t)
	for i := 0; i < 100; i++ {
		if code, body, _ := get(t, c, "http://"+p.Addr()+"/"); code != 200 || body != "ok" {
			t.Fatalf("request %d: got %d %q", i, code, body)
		}
	}
	if conns.Load() != 1 {
		t.Errorf("upstream accepted %d connections for 100 sequential requests, want 1", conns.Load())
	}
}

func TestProxy_ReusesUpstreamConnectionsConcurrently(t *testing.T) {
	var conns atomic.Int64
	fixed := fixedResponder("ok")
	up := startRaw(t, func(c net.Conn, br *bufio.Reader) {
		conns.Add(1)
		fixed(c, br)
	})
	p := startProxy(t, Options{})
	p.SetTable(table(rev(1, 100, up.addr())))
	done := make(chan error)
	for w := 0; w < 16; w++ {
		go func() {
			c, err := net.Dial("tcp", p.Addr())
			if err != nil {
				done <- err
				return
			}
			defer c.Close()
			bc := &benchClient{c: c, br: bufio.NewReader(c)}
			for i := 0; i < 200; i++ {
				if err := bc.do(); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for w := 0; w < 16; w++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n > 16 {
		t.Errorf("upstream accepted %d connections for 16 concurrent clients, want at most 16", n)
	}
}

func TestProxy_RemovedEndpointIdleConnectionsClosed(t *testing.T) {
	closed := make(chan struct{}, 1)
	fixed := fixedResponder("ok")
	up := startRaw(t, func(c net.Conn, br *bufio.Reader) {
		fixed(c, br) // returns when the proxy closes the connection
		closed <- struct{}{}
	})
	other := startUpstream(t, nameServer("other"))
	// No timeout falls due during the test: an event loop must close its
	// pooled connection on the change of table itself, not on a timer.
	p := startProxy(t, Options{DialTimeout: time.Minute})
	p.SetTable(table(rev(1, 100, up.addr())))
	if code, _, _ := get(t, newClient(t), "http://"+p.Addr()+"/"); code != 200 {
		t.Fatalf("status %d", code)
	}
	p.SetTable(table(rev(2, 100, other)))
	select {
	case <-closed: // the idle connection to the removed endpoint was closed
	case <-time.After(20 * time.Second):
		t.Fatal("the idle connection to a removed endpoint stayed open")
	}
}
