package proxy

import (
	"bufio"
)

// response is a parsed response head. Its slices alias the upstream
// reader's buffer and are valid until the head is discarded.
type response struct {
	head       []byte
	statusLine []byte
	status     int
	minor      int
	firstHdr   int
	conn       connOpts
	body       framing
}

// parse parses and validates a response head. It fails on anything that
// could split or desynchronise the response on its way to the client: a
// control character in the reason phrase or a header value (CR, NUL, ...), a
// header name that is not a token, conflicting Content-Length values,
// Content-Length with Transfer-Encoding, or a transfer coding other than
// chunked.
func (r *response) parse(head []byte) error {
	r.conn.reset()
	*r = response{head: head, body: framing{contentLength: -1}, conn: r.conn}
	line, i := nextLine(head, 0)
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' ||
		(len(line) > 12 && line[12] != ' ') {
		return errMalformed
	}
	switch line[7] {
	case '0':
		r.minor = 0
	case '1':
		r.minor = 1
	default:
		return errVersion
	}
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return errMalformed
		}
		r.status = r.status*10 + int(c-'0')
	}
	if r.status < 100 || len(line) > 12 && !validFieldValue(line[13:]) {
		return errMalformed
	}
	r.statusLine = line
	r.firstHdr = i
	for i < len(head) {
		line, i = nextLine(head, i)
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return errMalformed
		}
		name, value, ok := splitHeader(line)
		if !ok {
			return errMalformed
		}
		switch kindOf(name) {
		case hContentLength:
			r.body.addContentLength(value)
		case hTransferEncoding:
			r.body.addTransferEncoding(value)
		case hConnection, hProxyConnection:
			r.conn.parse(value)
		}
	}
	if f := &r.body; f.badLength || f.hasTE && (f.contentLength >= 0 || f.unknown || f.codings != 1) {
		return errMalformed
	}
	return nil
}

// bodyKind says how a response body is delimited.
type bodyKind uint8

const (
	bodyNone     bodyKind = iota // HEAD, 1xx, 204, 304
	bodyLength                   // Content-Length
	bodyChunked                  // chunked transfer coding
	bodyUntilEOF                 // close-delimited
)

// bodyKind returns how the body of this response to a request (HEAD or not) is delimited.
func (r *response) bodyKind(head bool) bodyKind {
	switch {
	case head, r.status < 200, r.status == 204, r.status == 304:
		return bodyNone
	case r.body.chunked:
		return bodyChunked
	case r.body.contentLength >= 0:
		return bodyLength
	}
	return bodyUntilEOF
}

// reusable reports whether the upstream connection may carry another request
// after this response, as far as the response head says.
func (r *response) reusable() bool {
	if r.conn.close {
		return false
	}
	return r.minor == 1 || r.conn.keepAlive
}

// clientHead describes how the response head is rewritten for the client.
type clientHead struct {
	dropTE     bool   // the body is decoded (HTTP/1.0 client): drop Transfer-Encoding
	upgrade    bool   // 101 Switching Protocols: keep Upgrade, send Connection: Upgrade
	setCookie  []byte // a Set-Cookie line to add, or nil
	connection string // a Connection header value to add, or ""
}

// writeHead writes the response head for the client: hop-by-hop headers
// removed, one framing header in canonical form, the proxy's own Connection
// and Set-Cookie added.
func (r *response) writeHead(w *bufio.Writer, ch clientHead) {
	w.Write(r.statusLine)
	w.WriteString("\r\n")
	for i := r.firstHdr; i < len(r.head); {
		var line []byte
		line, i = nextLine(r.head, i)
		if len(line) == 0 {
			break
		}
		name, _, _ := splitHeader(line)
		switch k := kindOf(name); k {
		case hConnection, hProxyConnection, hKeepAlive, hTE, hProxyAuthenticate:
			continue
		case hUpgrade:
			if !ch.upgrade {
				continue
			}
		case hTransferEncoding, hContentLength:
			continue
		default:
			if r.conn.listed(name, k) {
				continue
			}
		}
		w.Write(line)
		w.WriteString("\r\n")
	}
	switch {
	case r.body.chunked && !ch.dropTE:
		w.WriteString("Transfer-Encoding: chunked\r\n")
	case r.body.contentLength >= 0:
		w.WriteString("Content-Length: ")
		writeDecimal(w, r.body.contentLength)
		w.WriteString("\r\n")
	}
	if ch.upgrade {
		w.WriteString("Connection: Upgrade\r\n")
	} else if ch.connection != "" {
		w.WriteString("Connection: ")
		w.WriteString(ch.connection)
		w.WriteString("\r\n")
	}
	if ch.setCookie != nil {
		w.Write(ch.setCookie)
	}
	w.WriteString("\r\n")
}
