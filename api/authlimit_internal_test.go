package api

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/audit"
)

func TestAuthLimiter_limitsPerSourceAndAggregates(t *testing.T) {
	now := time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC)
	var (
		mu   sync.Mutex
		recs []audit.Record
		got  = make(chan struct{}, 10)
	)
	l := newAuthLimiter(AuthLimit{Failures: 3, Window: time.Minute}, func() time.Time { return now }, func(r audit.Record) {
		mu.Lock()
		recs = append(recs, r)
		mu.Unlock()
		got <- struct{}{}
	})
	from := func(addr string) *http.Request { return &http.Request{RemoteAddr: addr} }
	a, b := from("192.0.2.1:1000"), from("192.0.2.2:1000")

	if !l.failed(a) {
		t.Error("the first failure of a window is not audited on its own")
	}
	for i := 0; i < 2; i++ {
		if _, over := l.refuse(a); over {
			t.Fatalf("refused after %d failures, limit 3", i+1)
		}
		if l.failed(from("192.0.2.1:2000")) {
			t.Error("a later failure of the window (another port, same address) is audited on its own")
		}
	}
	now = now.Add(20 * time.Second)
	for i := 0; i < 5; i++ {
		retry, over := l.refuse(a)
		if !over || retry != 40*time.Second {
			t.Fatalf("after 3 failures: refuse = %v, %v; want refused for the 40 s left", retry, over)
		}
	}
	if _, over := l.refuse(b); over {
		t.Error("another address is refused")
	}
	now = now.Add(41 * time.Second) // a's window has ended
	if _, over := l.refuse(a); over {
		t.Error("still refused after the window ended")
	}
	if !l.failed(a) {
		t.Error("the first failure of the new window is not audited on its own")
	}
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no aggregate record for the ended window")
	}
	mu.Lock()
	defer mu.Unlock()
	want := "2 more failed authentication(s) and 5 request(s) refused with 429 (over 3 failures) from 192.0.2.1 between 2026-05-20T10:00:00Z and 2026-05-20T10:01:00Z"
	if len(recs) != 1 || recs[0].Action != ActionAuthFailed || recs[0].Message != want || recs[0].Outcome != "denied" || recs[0].RemoteAddr != "192.0.2.1" {
		t.Errorf("records = %+v\nwant one %s record: %s", recs, ActionAuthFailed, want)
	}
}

func TestAuthLimiter_boundsTrackedSources(t *testing.T) {
	now := time.Now()
	l := newAuthLimiter(AuthLimit{Failures: 1}, func() time.Time { return now }, nil)
	for i := 0; i < maxAuthSources+100; i++ {
		l.failed(&http.Request{RemoteAddr: "10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256) + ":1"})
	}
	if n := len(l.sources); n > maxAuthSources+1 {
		t.Errorf("%d sources tracked, want at most %d and %q", n, maxAuthSources, otherSources)
	}
	if w := l.sources[otherSources]; w == nil || w.failures != 100 {
		t.Errorf("window of %q = %+v, want the 100 failures beyond the limit", otherSources, w)
	}
	if _, over := l.refuse(&http.Request{RemoteAddr: "10.99.0.1:1"}); !over {
		t.Error("a new address beyond the tracked ones is not refused with the others")
	}
}
