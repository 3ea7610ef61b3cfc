package sample

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The minimal RFC 6455 server behind /ws: the opening handshake, then an
// echo of every text and binary message, answers to pings, and the closing
// handshake. No extensions, no subprotocols.

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// wsMaxMessage bounds one message, in bytes.
const wsMaxMessage = 1 << 20

// wsGUID is the fixed string the handshake appends to the client's key.
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// WebSocketAccept returns the Sec-WebSocket-Accept value for a client's
// Sec-WebSocket-Key.
func WebSocketAccept(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func (s *server) websocket(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if r.Method != http.MethodGet || !headerHas(r.Header, "Connection", "upgrade") ||
		!headerHas(r.Header, "Upgrade", "websocket") || key == "" {
		http.Error(w, "this endpoint speaks WebSocket (RFC 6455): send a GET with Upgrade: websocket", http.StatusBadRequest)
		return
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		http.Error(w, "unsupported WebSocket version; use 13", http.StatusUpgradeRequired)
		return
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "cannot take over the connection: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Time{})
	fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", WebSocketAccept(key))
	if rw.Flush() != nil {
		return
	}
	wsEcho(rw)
}

// wsEcho echoes messages until the peer closes or errs.
func wsEcho(rw *bufio.ReadWriter) {
	var msg []byte
	var msgOp byte
	for {
		fin, op, payload, err := readFrame(rw.Reader)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				writeFrame(rw.Writer, opClose, closePayload(1002, err.Error()))
				rw.Flush()
			}
			return
		}
		switch op {
		case opPing:
			writeFrame(rw.Writer, opPong, payload)
		case opPong:
			continue
		case opClose:
			code := payload
			if len(code) > 2 {
				code = code[:2]
			}
			writeFrame(rw.Writer, opClose, code)
			rw.Flush()
			return
		case opText, opBinary, opContinuation:
			if op != opContinuation {
				msg, msgOp = msg[:0], op
			}
			if len(msg)+len(payload) > wsMaxMessage {
				writeFrame(rw.Writer, opClose, closePayload(1009, "message too big"))
				rw.Flush()
				return
			}
			msg = append(msg, payload...)
			if !fin {
				continue
			}
			writeFrame(rw.Writer, msgOp, msg)
		default:
			writeFrame(rw.Writer, opClose, closePayload(1002, "unknown opcode"))
			rw.Flush()
			return
		}
		if rw.Flush() != nil {
			return
		}
	}
}

// readFrame reads one client frame and unmasks its payload.
func readFrame(r *bufio.Reader) (fin bool, op byte, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(r, h[:]); err != nil {
		return
	}
	fin, op = h[0]&0x80 != 0, h[0]&0x0F
	masked := h[1]&0x80 != 0
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var b [2]byte
		if _, err = io.ReadFull(r, b[:]); err != nil {
			return
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err = io.ReadFull(r, b[:]); err != nil {
			return
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if !masked {
		return false, 0, nil, errors.New("client frame not masked")
	}
	if n > wsMaxMessage {
		return false, 0, nil, errors.New("frame too big")
	}
	var mask [4]byte
	if _, err = io.ReadFull(r, mask[:]); err != nil {
		return
	}
	payload = make([]byte, n)
	if _, err = io.ReadFull(r, payload); err != nil {
		return
	}
	for i := range payload {
		payload[i] ^= mask[i%4]
	}
	return fin, op, payload, nil
}

// writeFrame writes one unmasked, final server frame.
func writeFrame(w io.Writer, op byte, payload []byte) error {
	h := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		h = append(h, byte(n))
	case n <= 0xFFFF:
		h = append(h, 126)
		h = binary.BigEndian.AppendUint16(h, uint16(n))
	default:
		h = append(h, 127)
		h = binary.BigEndian.AppendUint64(h, uint64(n))
	}
	if _, err := w.Write(h); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

func closePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}
