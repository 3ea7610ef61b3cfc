package sample

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/coder/websocket"
)

// wsMaxMessage bounds one message, in bytes; a bigger one closes the
// connection with status 1009 (message too big).
const wsMaxMessage = 1 << 20

// websocket serves /ws: an RFC 6455 echo of every text and binary message
// (github.com/coder/websocket does the protocol: handshake, fragments,
// pings, the closing handshake). No extensions, no subprotocols.
func (s *server) websocket(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "this endpoint speaks WebSocket (RFC 6455): send a GET with Upgrade: websocket", http.StatusUpgradeRequired)
		return
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return // Accept has written the error response (400 or 426)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(wsMaxMessage)
	if err := wsEcho(r.Context(), conn); err != nil && websocket.CloseStatus(err) == -1 && !errors.Is(err, context.Canceled) {
		conn.Close(websocket.StatusProtocolError, "echo: "+err.Error())
	}
}

// wsEcho echoes messages until the peer closes or errs.
func wsEcho(ctx context.Context, conn *websocket.Conn) error {
	for {
		typ, msg, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		if err := conn.Write(ctx, typ, msg); err != nil {
			return err
		}
	}
}
