package dashboard_test

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sseMessage is one Server-Sent Events message.
type sseMessage struct {
	event, id, data string
}

// readSSE opens the stream with lastEventID ("" for none) and returns its
// messages until ctx ends or the stream closes.
func readSSE(ctx context.Context, t *testing.T, base, token, lastEventID string) <-chan sseMessage {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("stream = %d", res.StatusCode)
	}
	out := make(chan sseMessage, 64)
	go func() {
		defer close(out)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 8<<20)
		var m sseMessage
		for sc.Scan() {
			line := sc.Text()
			k, v, _ := strings.Cut(line, ": ")
			switch k {
			case "event":
				m.event = v
			case "id":
				m.id = v
			case "data":
				m.data = v
			case "":
				if m.event != "" {
					select {
					case out <- m:
					case <-ctx.Done():
						return
					}
				}
				m = sseMessage{}
			}
		}
	}()
	return out
}

// next returns the next message named event, failing the test when the
// stream ends first.
func next(t *testing.T, ch <-chan sseMessage, event string) sseMessage {
	t.Helper()
	for m := range ch {
		if m.event == event {
			return m
		}
	}
	t.Fatalf("the stream ended before a %q message", event)
	return sseMessage{}
}

// TestStream_ReconnectCatchesUp: a client that reconnects with
// Last-Event-ID, to a restarted server too, gets every event it missed,
// in order, before the live ones; and snapshots show the environment.
func TestStream_ReconnectCatchesUp(t *testing.T) {
	s := startServer(t, t.TempDir(), "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	first, stopFirst := context.WithCancel(ctx)
	ch := readSSE(first, t, s.url(), adminToken, "")
	hello := next(t, ch, "hello")
	stopFirst()
	start, _ := strconv.ParseInt(hello.id, 10, 64) // "" before any event: 0

	if _, err := s.c.Apply(ctx, "gantry.yaml", []byte(appSpec(t, "duration: 1s"))); err != nil {
		t.Fatal(err)
	}
	r, err := s.c.Deploy(ctx, "web", "prod", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if r, err = s.c.WaitRollout(ctx, r.ID, 200*time.Millisecond, nil); err != nil || r.Phase.String() != "Succeeded" {
		t.Fatalf("deploy v1: %v %v", r.Phase, err)
	}
	s.stop()
	s = startServer(t, s.dir, s.addr)

	ch = readSSE(ctx, t, s.url(), adminToken, strconv.FormatInt(start, 10))
	var ids []int64
	sawStarted := false
	for m := range ch {
		if m.event == "hello" {
			break
		}
		if m.event != "event" {
			t.Fatalf("before hello: %s message, want only the missed events", m.event)
		}
		id, _ := strconv.ParseInt(m.id, 10, 64)
		ids = append(ids, id)
		sawStarted = sawStarted || strings.Contains(m.data, `"reason":"RolloutStarted"`)
	}
	if len(ids) == 0 || ids[0] != start+1 || !sawStarted {
		t.Fatalf("missed events = %v (RolloutStarted seen: %v), want from %d on with the rollout's", ids, sawStarted, start+1)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("missed events out of order: %v", ids)
		}
	}
	snap := next(t, ch, "snapshot")
	if !strings.Contains(snap.data, `"app":"web"`) || !strings.Contains(snap.data, `"phase":"Succeeded"`) {
		t.Errorf("snapshot = %.300s, want web with its succeeded rollout", snap.data)
	}
}
