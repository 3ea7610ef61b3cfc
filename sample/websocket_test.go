package sample

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// wsDial performs the client side of the opening handshake.
func wsDial(t *testing.T, url string) (net.Conn, *bufio.Reader) {
	t.Helper()
	addr := strings.TrimPrefix(url, "http://")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(time.Minute))
	k := make([]byte, 16)
	rand.Read(k)
	key := base64.StdEncoding.EncodeToString(k)
	fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", addr, key)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != WebSocketAccept(key) {
		t.Fatalf("handshake: %s, accept %q", resp.Status, resp.Header.Get("Sec-WebSocket-Accept"))
	}
	return c, br
}

// wsWrite sends one masked client frame.
func wsWrite(t *testing.T, c net.Conn, fin bool, op byte, payload []byte) {
	t.Helper()
	var b bytes.Buffer
	first := op
	if fin {
		first |= 0x80
	}
	b.WriteByte(first)
	switch n := len(payload); {
	case n < 126:
		b.WriteByte(0x80 | byte(n))
	case n <= 0xFFFF:
		b.Write([]byte{0x80 | 126, byte(n >> 8), byte(n)})
	default:
		t.Fatal("test frame too big")
	}
	mask := []byte{1, 2, 3, 4}
	b.Write(mask)
	for i, p := range payload {
		b.WriteByte(p ^ mask[i%4])
	}
	if _, err := c.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
}

// wsRead reads one unmasked server frame.
func wsRead(t *testing.T, r *bufio.Reader) (op byte, payload []byte) {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		t.Fatal(err)
	}
	if h[1]&0x80 != 0 {
		t.Fatal("server frame is masked")
	}
	n := int(h[1] & 0x7F)
	if n == 126 {
		var b [2]byte
		io.ReadFull(r, b[:])
		n = int(b[0])<<8 | int(b[1])
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		t.Fatal(err)
	}
	return h[0] & 0x0F, payload
}

func TestWebSocket_Echo(t *testing.T) {
	c, r := wsDial(t, start(t, "v1"))
	long := strings.Repeat("gantry ", 100) // 700 bytes: 16-bit length
	tests := []struct {
		name   string
		frames []string // fragments of one message
		op     byte
	}{
		{"short text", []string{"hello"}, opText},
		{"long text", []string{long}, opText},
		{"fragmented", []string{"hel", "lo ", "world"}, opText},
		{"binary", []string{"\x00\x01\x02"}, opBinary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, f := range tt.frames {
				op := tt.op
				if i > 0 {
					op = opContinuation
				}
				wsWrite(t, c, i == len(tt.frames)-1, op, []byte(f))
			}
			op, got := wsRead(t, r)
			if want := strings.Join(tt.frames, ""); op != tt.op || string(got) != want {
				t.Errorf("echo = op %d %q, want op %d %q", op, got, tt.op, want)
			}
		})
	}
	t.Run("ping", func(t *testing.T) {
		wsWrite(t, c, true, opPing, []byte("p"))
		if op, got := wsRead(t, r); op != opPong || string(got) != "p" {
			t.Errorf("got op %d %q, want pong %q", op, got, "p")
		}
	})
	t.Run("close", func(t *testing.T) {
		wsWrite(t, c, true, opClose, []byte{0x03, 0xE8})
		if op, got := wsRead(t, r); op != opClose || !bytes.Equal(got, []byte{0x03, 0xE8}) {
			t.Errorf("got op %d %v, want close 1000", op, got)
		}
	})
}

func TestWebSocket_RejectsPlainGet(t *testing.T) {
	if code, _, _ := get(t, start(t, "v1")+"/ws"); code != http.StatusBadRequest {
		t.Errorf("plain GET /ws = %d, want 400", code)
	}
}
