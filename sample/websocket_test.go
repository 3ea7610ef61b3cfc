package sample

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsDial opens a WebSocket connection to the sample's /ws.
func wsDial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, strings.Replace(url, "http://", "ws://", 1)+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %s", resp.Status)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func TestWebSocket_Echo(t *testing.T) {
	c := wsDial(t, start(t, "v1"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	long := strings.Repeat("gantry ", 100) // 700 bytes: 16-bit length
	tests := []struct {
		name   string
		frames []string // fragments of one message
		typ    websocket.MessageType
	}{
		{"short text", []string{"hello"}, websocket.MessageText},
		{"long text", []string{long}, websocket.MessageText},
		{"fragmented", []string{"hel", "lo ", "world"}, websocket.MessageText},
		{"binary", []string{"\x00\x01\x02"}, websocket.MessageBinary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := c.Writer(ctx, tt.typ)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range tt.frames {
				if _, err := w.Write([]byte(f)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			typ, got, err := c.Read(ctx)
			if want := strings.Join(tt.frames, ""); err != nil || typ != tt.typ || string(got) != want {
				t.Errorf("echo = %v %q (%v), want %v %q", typ, got, err, tt.typ, want)
			}
		})
	}
	t.Run("ping", func(t *testing.T) {
		// Ping needs a reader running to see the pong.
		go c.Reader(ctx)
		if err := c.Ping(ctx); err != nil {
			t.Errorf("ping: %v", err)
		}
	})
}

func TestWebSocket_Close(t *testing.T) {
	c := wsDial(t, start(t, "v1"))
	if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Errorf("closing handshake: %v", err)
	}
}

func TestWebSocket_TooBig(t *testing.T) {
	c := wsDial(t, start(t, "v1"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c.Write(ctx, websocket.MessageBinary, bytes.Repeat([]byte{1}, wsMaxMessage+1))
	_, _, err := c.Read(ctx)
	if got := websocket.CloseStatus(err); got != websocket.StatusMessageTooBig {
		t.Errorf("after a message over %d bytes: close status %v (%v), want %v", wsMaxMessage, got, err, websocket.StatusMessageTooBig)
	}
}

func TestWebSocket_RejectsPlainGet(t *testing.T) {
	code, _, body := get(t, start(t, "v1")+"/ws")
	if code != http.StatusUpgradeRequired || !strings.Contains(body, "WebSocket") {
		t.Errorf("plain GET /ws = %d %q, want 426 naming WebSocket", code, body)
	}
}
