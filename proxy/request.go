package proxy

import (
	"bufio"
	"bytes"
)

// request is a parsed request head. Its slices alias the client reader's
// buffer and are valid until the head is discarded.
type request struct {
	head     []byte
	method   []byte
	target   []byte
	minor    int // HTTP/1.minor
	firstHdr int // offset of the first header line in head

	conn           connOpts
	body           framing
	upgrade        []byte // Upgrade value when the client asked to upgrade
	expectContinue bool
	hasHost        bool
	hasXFF         bool
	hasXFP         bool
	sticky         []byte // value of the sticky cookie, if present
}

// parse parses head, looking for the cookie named cookie ("" for none).
func (r *request) parse(head []byte, cookie string) error {
	*r = request{head: head, body: framing{contentLength: -1}}
	line, i := nextLine(head, 0)
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return errMalformed
	}
	rest := line[sp1+1:]
	sp2 := bytes.LastIndexByte(rest, ' ')
	if sp2 <= 0 {
		return errMalformed
	}
	r.method, r.target = line[:sp1], rest[:sp2]
	for _, c := range r.method {
		if !isTokenChar(c) {
			return errMalformed
		}
	}
	if bytes.IndexByte(r.target, ' ') >= 0 {
		return errMalformed
	}
	switch v := rest[sp2+1:]; string(v) {
	case "HTTP/1.1":
		r.minor = 1
	case "HTTP/1.0":
		r.minor = 0
	default:
		if len(v) > 5 && string(v[:5]) == "HTTP/" {
			return errVersion
		}
		return errMalformed
	}
	r.firstHdr = i
	var upgradeVal []byte
	hosts := 0
	for i < len(head) {
		line, i = nextLine(head, i)
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return errMalformed // obsolete line folding
		}
		name, value, ok := splitHeader(line)
		if !ok {
			return errMalformed
		}
		switch kindOf(name) {
		case hHost:
			hosts++
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
		case hXForwardedFor:
			r.hasXFF = true
		case hXForwardedProto:
			r.hasXFP = true
		case hCookie:
			if cookie != "" && r.sticky == nil {
				r.sticky = findCookie(value, cookie)
			}
		}
	}
	r.hasHost = hosts > 0
	switch {
	case hosts > 1, hosts == 0 && r.minor == 1:
		return errMalformed
	case r.body.badLength:
		return errMalformed
	case r.body.hasTE && (!r.body.chunked || r.body.contentLength >= 0 || r.minor == 0):
		return errMalformed // unknown coding, or smuggling-prone TE with CL
	}
	if r.conn.upgrade && len(upgradeVal) > 0 && r.minor == 1 {
		r.upgrade = upgradeVal
	}
	return nil
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

// writeHead writes the head to send upstream: HTTP/1.1, hop-by-hop headers
// removed, X-Forwarded-For appended, X-Forwarded-Proto set when absent, Host
// added for HTTP/1.0 clients that sent none, Upgrade carried when asked.
func (r *request) writeHead(w *bufio.Writer, clientIP []byte, host string) {
	w.Write(r.method)
	w.WriteByte(' ')
	w.Write(r.target)
	w.WriteString(" HTTP/1.1\r\n")
	for i := r.firstHdr; i < len(r.head); {
		var line []byte
		line, i = nextLine(r.head, i)
		if len(line) == 0 {
			break
		}
		name, _, _ := splitHeader(line)
		switch k := kindOf(name); k {
		case hConnection, hProxyConnection, hKeepAlive, hTE, hUpgrade, hExpect,
			hProxyAuthorization, hXForwardedFor:
			continue
		default:
			if r.conn.listed(name, k) {
				continue
			}
		}
		w.Write(line)
		w.WriteString("\r\n")
	}
	if !r.hasHost {
		w.WriteString("Host: ")
		w.WriteString(host)
		w.WriteString("\r\n")
	}
	w.WriteString("X-Forwarded-For: ")
	if r.hasXFF {
		r.writePriorXFF(w)
		w.WriteString(", ")
	}
	w.Write(clientIP)
	w.WriteString("\r\n")
	if !r.hasXFP {
		w.WriteString("X-Forwarded-Proto: http\r\n")
	}
	if r.upgrade != nil {
		w.WriteString("Connection: Upgrade\r\nUpgrade: ")
		w.Write(r.upgrade)
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
}

// writePriorXFF writes the values of every X-Forwarded-For header the client
// sent, joined by ", " in order.
func (r *request) writePriorXFF(w *bufio.Writer) {
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
