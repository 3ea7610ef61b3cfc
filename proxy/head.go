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
// optional whitespace. ok is false for a malformed line: no colon, a name
// that is not a token (empty, or whitespace before the colon), a value with
// a control character (CR, NUL, ...), or an obsolete folded line.
func splitHeader(line []byte) (name, value []byte, ok bool) {
	c := bytes.IndexByte(line, ':')
	if c <= 0 {
		return nil, nil, false
	}
	name = line[:c]
	if !isToken(name) {
		return nil, nil, false
	}
	value = trimOWS(line[c+1:])
	if !validFieldValue(value) {
		return nil, nil, false
	}
	return name, value, true
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
	hTrailer
	hXForwardedHost
	hForwarded
	hXRealIP
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
		if eqFold(name, "trailer") {
			return hTrailer
		}
	case 9:
		if eqFold(name, "forwarded") {
			return hForwarded
		}
		if eqFold(name, "x-real-ip") {
			return hXRealIP
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
		if eqFold(name, "x-forwarded-host") {
			return hXForwardedHost
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

// connOpts holds what the Connection headers said.
type connOpts struct {
	close, keepAlive, upgrade bool
	// extra lists the other tokens: headers the sender marked hop-by-hop,
	// however many. Its backing array is reused from request to request.
	extra [][]byte
}

// reset clears co for a new message, keeping extra's backing array.
func (co *connOpts) reset() {
	clear(co.extra)
	*co = connOpts{extra: co.extra[:0]}
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
		default:
			co.extra = append(co.extra, tok)
		}
	}
}

// listed reports whether name was listed in a Connection header. Framing
// headers and Host are never treated as listed, whatever the sender wrote.
func (co *connOpts) listed(name []byte, kind headerKind) bool {
	if len(co.extra) == 0 || kind == hContentLength || kind == hTransferEncoding || kind == hHost {
		return false
	}
	for _, t := range co.extra {
		if eqFoldBytes(t, name) {
			return true
		}
	}
	return false
}

// framing is what the Transfer-Encoding and Content-Length headers of a
// message say about its body.
type framing struct {
	contentLength int64 // -1: absent
	hasTE         bool  // a Transfer-Encoding header was present
	chunked       bool  // the final transfer coding is chunked
	codings       int   // transfer codings listed, chunked included
	unknown       bool  // a coding other than chunked was listed
	badLength     bool  // unparsable or conflicting Content-Length values
}

// addContentLength takes one Content-Length value. Values that are equal as
// numbers ("3" and "0003") are one length; the proxy forwards it once, in
// canonical form.
func (f *framing) addContentLength(v []byte) {
	n, ok := parseLength(v)
	if !ok || (f.contentLength >= 0 && f.contentLength != n) {
		f.badLength = true
		return
	}
	f.contentLength = n
}

// addTransferEncoding takes one Transfer-Encoding value; its codings add to
// those of earlier lines, in order.
func (f *framing) addTransferEncoding(v []byte) {
	f.hasTE = true
	for len(v) > 0 {
		var c []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			c, v = trimOWS(v[:i]), v[i+1:]
		} else {
			c, v = trimOWS(v), nil
		}
		if len(c) == 0 {
			continue
		}
		f.codings++
		f.chunked = eqFold(c, "chunked")
		if !f.chunked {
			f.unknown = true
		}
	}
}

// requestProblem returns what is wrong with a request's framing, if anything.
// A request body is delimited by exactly one chunked coding or by one
// Content-Length, never both (RFC 9112 §6.1, §6.3).
func (f *framing) requestProblem(minor int) Reason {
	switch {
	case f.badLength:
		return ReasonFraming
	case !f.hasTE:
		return reasonNone
	case minor == 0, f.contentLength >= 0:
		return ReasonFraming
	case f.unknown:
		return ReasonCoding
	case f.codings != 1:
		return ReasonFraming // chunked twice, or an empty Transfer-Encoding
	}
	return reasonNone
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
