package proxy

import (
	"bufio"
	"bytes"
	"errors"
)

// Errors reading and parsing message heads.
var (
	errHeadTooLarge = errors.New("message head larger than the read buffer")
	errMalformed    = errors.New("malformed message head")
	errVersion      = errors.New("unsupported HTTP version")
)

// readHead reads a complete message head (start line, header lines and the
// blank line) into br's buffer without consuming it, skipping empty lines
// before the start line. The returned slice aliases br's buffer: it is valid
// until the next read from br; the caller Discards len(head) when done.
func readHead(br *bufio.Reader) ([]byte, error) {
	from := 0
	want := 1
	for {
		if _, err := br.Peek(want); err != nil {
			if err == bufio.ErrBufferFull {
				return nil, errHeadTooLarge
			}
			return nil, err
		}
		b, _ := br.Peek(br.Buffered())
		if from == 0 && (b[0] == '\r' || b[0] == '\n') { // stray CRLF between messages
			n := 0
			for n < len(b) && n < 4 && (b[n] == '\r' || b[n] == '\n') {
				n++
			}
			br.Discard(n)
			if n == 4 {
				return nil, errMalformed
			}
			want = 1
			continue
		}
		if end := headEnd(b, from); end > 0 {
			return b[:end], nil
		}
		if len(b) >= br.Size() {
			return nil, errHeadTooLarge
		}
		from = max(0, len(b)-3)
		want = len(b) + 1
	}
}

// headEnd returns the length of the head in b (through the blank line that
// ends it, CRLF or bare LF), searching from offset from, or -1.
func headEnd(b []byte, from int) int {
	for i := from; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		if i < len(b) && b[i] == '\n' {
			return i + 1
		}
		if i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n' {
			return i + 2
		}
	}
	return -1
}

// nextLine returns the line of b starting at i without its line ending, and
// the offset of the following line.
func nextLine(b []byte, i int) (line []byte, next int) {
	j := bytes.IndexByte(b[i:], '\n')
	if j < 0 {
		return b[i:], len(b)
	}
	line = b[i : i+j]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, i + j + 1
}

// splitHeader splits a header line into its name and its value trimmed of
// optional whitespace. ok is false for a malformed line (no colon, empty
// name, whitespace before the colon, or an obsolete folded line).
func splitHeader(line []byte) (name, value []byte, ok bool) {
	c := bytes.IndexByte(line, ':')
	if c <= 0 {
		return nil, nil, false
	}
	name = line[:c]
	for _, ch := range name {
		if !isTokenChar(ch) {
			return nil, nil, false
		}
	}
	return name, trimOWS(line[c+1:]), true
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// isTokenChar reports whether c may appear in an RFC 9110 token.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// eqFold reports whether b equals the lower-case ASCII string s, ignoring case.
func eqFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// eqFoldBytes compares two byte strings ignoring ASCII case.
func eqFoldBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// headerKind classifies the header names the proxy acts on.
type headerKind uint8

const (
	hOther headerKind = iota
	hHost
	hContentLength
	hTransferEncoding
	hConnection
	hKeepAlive
	hProxyConnection
	hTE
	hUpgrade
	hExpect
	hCookie
	hXForwardedFor
	hXForwardedProto
	hProxyAuthorization
	hProxyAuthenticate
)

func kindOf(name []byte) headerKind {
	switch len(name) {
	case 2:
		if eqFold(name, "te") {
			return hTE
		}
	case 4:
		if eqFold(name, "host") {
			return hHost
		}
	case 6:
		if eqFold(name, "cookie") {
			return hCookie
		}
		if eqFold(name, "expect") {
			return hExpect
		}
	case 7:
		if eqFold(name, "upgrade") {
			return hUpgrade
		}
	case 10:
		if eqFold(name, "connection") {
			return hConnection
		}
		if eqFold(name, "keep-alive") {
			return hKeepAlive
		}
	case 14:
		if eqFold(name, "content-length") {
			return hContentLength
		}
	case 15:
		if eqFold(name, "x-forwarded-for") {
			return hXForwardedFor
		}
	case 16:
		if eqFold(name, "proxy-connection") {
			return hProxyConnection
		}
	case 17:
		if eqFold(name, "transfer-encoding") {
			return hTransferEncoding
		}
		if eqFold(name, "x-forwarded-proto") {
			return hXForwardedProto
		}
	case 18:
		if eqFold(name, "proxy-authenticate") {
			return hProxyAuthenticate
		}
	case 19:
		if eqFold(name, "proxy-authorization") {
			return hProxyAuthorization
		}
	}
	return hOther
}

// connOpts holds what a Connection header said.
type connOpts struct {
	close, keepAlive, upgrade bool
	// extra lists other tokens: headers the sender marked hop-by-hop.
	extra  [8][]byte
	nExtra int
}

func (co *connOpts) parse(v []byte) {
	for len(v) > 0 {
		var tok []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			tok, v = trimOWS(v[:i]), v[i+1:]
		} else {
			tok, v = trimOWS(v), nil
		}
		switch {
		case len(tok) == 0:
		case eqFold(tok, "close"):
			co.close = true
		case eqFold(tok, "keep-alive"):
			co.keepAlive = true
		case eqFold(tok, "upgrade"):
			co.upgrade = true
		case co.nExtra < len(co.extra):
			co.extra[co.nExtra] = tok
			co.nExtra++
		}
	}
}

// listed reports whether name was listed in the Connection header. Framing
// headers are never treated as listed, whatever the sender wrote.
func (co *connOpts) listed(name []byte, kind headerKind) bool {
	if co.nExtra == 0 || kind == hContentLength || kind == hTransferEncoding || kind == hHost {
		return false
	}
	for _, t := range co.extra[:co.nExtra] {
		if eqFoldBytes(t, name) {
			return true
		}
	}
	return false
}

// framing is what a Transfer-Encoding/Content-Length pair says about a body.
type framing struct {
	contentLength int64 // -1: absent
	hasTE         bool  // a Transfer-Encoding header was present
	chunked       bool  // the final transfer coding is chunked
	badLength     bool  // unparsable or conflicting Content-Length
}

func (f *framing) addContentLength(v []byte) {
	n, ok := parseLength(v)
	if !ok || (f.contentLength >= 0 && f.contentLength != n) {
		f.badLength = true
		return
	}
	f.contentLength = n
}

func (f *framing) addTransferEncoding(v []byte) {
	f.hasTE = true
	last := v
	if i := bytes.LastIndexByte(v, ','); i >= 0 {
		last = v[i+1:]
	}
	f.chunked = eqFold(trimOWS(last), "chunked")
}

// parseLength parses a Content-Length value: decimal digits only.
func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
