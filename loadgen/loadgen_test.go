package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoad_CountsPerVersionAndFailures(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%4 == 0 {
			http.Error(w, `{"version":"v1","error":"boom"}`, http.StatusInternalServerError)
			return
		}
		w.Write([]byte(`{"version":"v1"}`))
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	l := Start(ctx, Options{URL: srv.URL, Rate: 400, Workers: 4})
	deadline := time.Now().Add(30 * time.Second)
	for l.Total() < 100 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	l.Wait()
	got := l.ByVersion()
	if len(got) != 1 || got[0].Version != "v1" {
		t.Fatalf("by version = %+v, want only v1", got)
	}
	if got[0].OK+got[0].Failed != l.Total() || l.Failed() != got[0].Failed {
		t.Fatalf("counts disagree: %+v total %d failed %d", got, l.Total(), l.Failed())
	}
	if l.Failed() == 0 || l.LastError() == "" {
		t.Fatalf("every 4th request fails, but failed = %d, last error %q", l.Failed(), l.LastError())
	}
	if uint64(n.Load()) != l.Total() {
		t.Fatalf("server saw %d requests, load counted %d", n.Load(), l.Total())
	}
}
