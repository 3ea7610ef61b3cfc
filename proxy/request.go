package proxy

import (
	"bufio"
	"bytes"
)

// request is a parsed request head. Its slices alias the client reader's
// buffer and are valid until the head is discarded.
type request struct {
	head      []byte
	method    []byte
	target    []byte
	path      []byte // the target sent upstream: origin-form, or "*"
	authority []byte // the authority of an absolute-form target, or nil
	minor     int    // HTTP/1.minor
	firstHdr  int    // offset of the first header line in head

	conn           connOpts
	body           framing
	upgrade        []byte // Upgrade value when the client asked to upgrade
	expectContinue bool
	host           []byte // the Host value
	hasHost        bool
	sticky         []byte // value of the sticky cookie, if present
	user           []byte // value of the user cookie (Table.UserCookie), if present
	hasXFF         bool   // the head has an X-Forwarded-For line
}

// parse parses and validates head, looking for the sticky cookie and the
// user cookie by name ("" for none). It returns why the request must be
// refused, or reasonNone.
func (r *request) parse(head []byte, cookie, userCookie string) Reason {
	r.conn.reset()
	*r = request{head: head, body: framing{contentLength: -1}, conn: r.conn}
	if reason := r.parseRequestLine(); reason != reasonNone {
		return reason
	}
	var upgradeVal []byte
	hosts := 0
	for i := r.firstHdr; i < len(head); {
		var line []byte
		line, i = nextLine(head, i)
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return ReasonHeader // obsolete line folding
		}
		name, value, ok := splitHeader(line)
		if !ok {
			return ReasonHeader
		}
		switch kindOf(name) {
		case hHost:
			hosts++
			r.host = value
		case hContentLength:
			r.body.addContentLength(value)
		case hTransferEncoding:
			r.body.addTransferEncoding(value)
		case hConnection, hProxyConnection:
			r.conn.parse(value)
		case hUpgrade:
			upgradeVal = value
		case hExpect:
			r.expectContinue = eqFold(value, "100-continue")
		case hCookie:
			if cookie != "" && r.sticky == nil {
				r.sticky = findCookie(value, cookie)
			}
			if userCookie != "" && r.user == nil {
				r.user = findCookie(value, userCookie)
			}
		case hXForwardedFor:
			r.hasXFF = true
		}
	}
	r.hasHost = hosts > 0
	switch {
	case hosts > 1, hosts == 0 && r.minor == 1, !validHost(r.host):
		return ReasonHost
	}
	if reason := r.body.requestProblem(r.minor); reason != reasonNone {
		return reason
	}
	if r.authority != nil {
		// RFC 9112 §3.2.2: the target's authority replaces Host.
		r.host, r.hasHost = r.authority, true
	}
	if r.conn.upgrade && len(upgradeVal) > 0 && r.minor == 1 {
		r.upgrade = upgradeVal
	}
	return reasonNone
}

// parseRequestLine parses "method SP request-target SP HTTP-version" and
// sets method, target, path, authority, minor and firstHdr.
func (r *request) parseRequestLine() Reason {
	line, next := nextLine(r.head, 0)
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return ReasonRequestLine
	}
	rest := line[sp1+1:]
	sp2 := bytes.LastIndexByte(rest, ' ')
	if sp2 <= 0 {
		return ReasonRequestLine
	}
	r.method, r.target = line[:sp1], rest[:sp2]
	if !isToken(r.method) {
		return ReasonRequestLine
	}
	switch v := rest[sp2+1:]; string(v) {
	case "HTTP/1.1":
		r.minor = 1
	case "HTTP/1.0":
		r.minor = 0
	default:
		if len(v) == 8 && string(v[:5]) == "HTTP/" && isDigit(v[5]) && v[6] == '.' && isDigit(v[7]) {
			return ReasonVersion
		}
		return ReasonRequestLine
	}
	r.firstHdr = next
	if !validTarget(r.target) {
		return ReasonTarget
	}
	switch t := r.target; {
	case string(r.method) == "CONNECT":
		return ReasonMethod
	case t[0] == '/':
		r.path = t
	case len(t) == 1 && t[0] == '*':
		if string(r.method) != "OPTIONS" {
			return ReasonTarget
		}
		r.path = t
	default:
		return r.parseAbsoluteForm()
	}
	return reasonNone
}

// parseAbsoluteForm splits an absolute-form target ("http://host/path?q")
// into its authority and the origin-form path sent upstream ("/path?q").
func (r *request) parseAbsoluteForm() Reason {
	t := r.target
	var rest []byte
	switch {
	case len(t) > 7 && eqFold(t[:7], "http://"):
		rest = t[7:]
	case len(t) > 8 && eqFold(t[:8], "https://"):
		rest = t[8:]
	default:
		return ReasonTarget
	}
	end := len(rest)
	if i := bytes.IndexAny(rest, "/?#"); i >= 0 {
		end = i
	}
	auth := rest[:end]
	if len(auth) == 0 || !validHost(auth) {
		return ReasonTarget // empty, with userinfo, or not a host[:port]
	}
	r.authority, r.path = auth, rest[end:]
	if len(r.path) > 0 && r.path[0] == '#' {
		r.path = r.path[:0]
	}
	return reasonNone
}

// keepAlive reports whether the client wants the connection kept open.
func (r *request) keepAlive() bool {
	if r.conn.close {
		return false
	}
	return r.minor == 1 || r.conn.keepAlive
}

// hasBody reports whether a body follows the head.
func (r *request) hasBody() bool {
	return r.body.chunked || r.body.contentLength > 0
}

func (r *request) isHead() bool { return string(r.method) == "HEAD" }

// forwarded says what the proxy adds about the client to a request.
type forwarded struct {
	ip      []byte // the client's address, appended to X-Forwarded-For
	proto   string // the listener's scheme, "http" or "https"
	trusted bool   // the client is a trusted proxy: keep its forwarded headers
}

// writeHead writes the canonical head to send upstream: HTTP/1.1 with an
// origin-form target, one Host, hop-by-hop headers removed, exactly one
// framing header written by the proxy (Transfer-Encoding: chunked or
// Content-Length in decimal), X-Forwarded-For and -Proto set, and Upgrade
// carried when asked. Forwarded headers from an untrusted client are
// dropped. defaultHost is sent as Host to HTTP/1.0 clients that sent none.
func (r *request) writeHead(w *bufio.Writer, fwd forwarded, defaultHost string) {
	w.Write(r.method)
	w.WriteByte(' ')
	if len(r.path) == 0 {
		w.WriteByte('/')
	} else if r.path[0] == '?' {
		w.WriteByte('/')
	}
	w.Write(r.path)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	if r.hasHost {
		w.Write(r.host)
	} else {
		w.WriteString(defaultHost)
	}
	w.WriteString("\r\n")
	hasXFP := false
	for i := r.firstHdr; i < len(r.head); {
		var line []byte
		line, i = nextLine(r.head, i)
		if len(line) == 0 {
			break
		}
		name, _, _ := splitHeader(line)
		switch k := kindOf(name); k {
		case hHost, hContentLength, hTransferEncoding, hConnection, hProxyConnection, hKeepAlive,
			hTE, hTrailer, hUpgrade, hExpect, hProxyAuthorization, hXForwardedFor:
			continue
		case hXForwardedProto, hXForwardedHost, hForwarded, hXRealIP:
			if !fwd.trusted {
				continue
			}
			hasXFP = hasXFP || k == hXForwardedProto
		default:
			if r.conn.listed(name, k) {
				continue
			}
		}
		w.Write(line)
		w.WriteString("\r\n")
	}
	switch {
	case r.body.chunked:
		w.WriteString("Transfer-Encoding: chunked\r\n")
	case r.body.contentLength >= 0:
		w.WriteString("Content-Length: ")
		writeDecimal(w, r.body.contentLength)
		w.WriteString("\r\n")
	}
	w.WriteString("X-Forwarded-For: ")
	if fwd.trusted && r.writePriorXFF(w) {
		w.WriteString(", ")
	}
	w.Write(fwd.ip)
	w.WriteString("\r\n")
	if !hasXFP {
		w.WriteString("X-Forwarded-Proto: ")
		w.WriteString(fwd.proto)
		w.WriteString("\r\n")
	}
	if r.upgrade != nil {
		w.WriteString("Connection: Upgrade\r\nUpgrade: ")
		w.Write(r.upgrade)
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
}

// writePriorXFF writes the values of every X-Forwarded-For header the client
// sent, joined by ", " in order, and reports whether it wrote any.
func (r *request) writePriorXFF(w *bufio.Writer) bool {
	first := true
	for i := r.firstHdr; i < len(r.head); {
		var line []byte
		line, i = nextLine(r.head, i)
		if len(line) == 0 {
			break
		}
		name, value, _ := splitHeader(line)
		if kindOf(name) != hXForwardedFor || len(value) == 0 {
			continue
		}
		if !first {
			w.WriteString(", ")
		}
		first = false
		w.Write(value)
	}
	return !first
}

// writeDecimal writes n ≥ 0 in decimal without allocating.
func writeDecimal(w *bufio.Writer, n int64) {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	for _, c := range b[i:] {
		w.WriteByte(c)
	}
}

// findCookie returns the value of cookie name in a Cookie header value.
func findCookie(v []byte, name string) []byte {
	for len(v) > 0 {
		var pair []byte
		if i := bytes.IndexByte(v, ';'); i >= 0 {
			pair, v = v[:i], v[i+1:]
		} else {
			pair, v = v, nil
		}
		pair = trimOWS(pair)
		if len(pair) > len(name) && pair[len(name)] == '=' && string(pair[:len(name)]) == name {
			val := pair[len(name)+1:]
			if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
				val = val[1 : len(val)-1]
			}
			return val
		}
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
