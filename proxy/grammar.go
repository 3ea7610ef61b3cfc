package proxy

// The character classes of RFC 9110 and RFC 9112 the parsers check against.

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

// isToken reports whether b is a non-empty RFC 9110 token.
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isTokenChar(c) {
			return false
		}
	}
	return true
}

// isFieldValueChar reports whether c may appear in a field value: VCHAR,
// obs-text, SP or HTAB (RFC 9110 §5.5). CR, LF, NUL and the other control
// characters may not.
func isFieldValueChar(c byte) bool {
	return c >= 0x20 && c != 0x7f || c == '\t'
}

// validFieldValue reports whether every byte of v may appear in a field value.
func validFieldValue(v []byte) bool {
	for _, c := range v {
		if !isFieldValueChar(c) {
			return false
		}
	}
	return true
}

// validTarget reports whether a request target has only visible characters
// (no whitespace, no control characters: RFC 9112 §3.2) and every "%" is
// followed by two hexadecimal digits (RFC 3986 §2.1), as nginx requires.
// obs-text (bytes 0x80 and above) is let through, as nginx and net/http do.
func validTarget(t []byte) bool {
	if len(t) == 0 {
		return false
	}
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c <= 0x20 || c == 0x7f:
			return false
		case c == '%':
			if i+2 >= len(t) || !isHexDigit(t[i+1]) || !isHexDigit(t[i+2]) {
				return false
			}
		}
	}
	return true
}

// validHost reports whether h is a syntactically valid Host value or
// authority without userinfo (RFC 9110 §7.2, RFC 3986 §3.2.2):
// a reg-name, IPv4 address or bracketed IP literal, and an optional port of
// digits. Empty is valid (an empty authority).
//
// A reg-name with percent-encoding is refused, as nginx refuses it in a
// request line: no DNS name holds one, and a backend that decodes it (Go's
// net/url does for an absolute-form target) would see another host than
// the one the proxy routed on. Inside a bracketed IP literal "%" stays
// allowed for an IPv6 zone ("[fe80::1%25eth0]").
func validHost(h []byte) bool {
	host, port := h, []byte(nil)
	if len(h) > 0 && h[0] == '[' {
		end := -1
		for i, c := range h {
			if c == ']' {
				end = i
				break
			}
		}
		if end < 2 {
			return false
		}
		for _, c := range h[1:end] {
			if !(isHexDigit(c) || c == ':' || c == '.' || c == '%' || isUnreservedChar(c)) {
				return false
			}
		}
		rest := h[end+1:]
		if len(rest) == 0 {
			return true
		}
		if rest[0] != ':' {
			return false
		}
		host, port = nil, rest[1:]
	} else {
		for i := len(h) - 1; i >= 0; i-- {
			if h[i] == ':' {
				host, port = h[:i], h[i+1:]
				break
			}
		}
	}
	for _, c := range host {
		if !isUnreservedChar(c) && !isSubDelim(c) {
			return false
		}
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(port) <= 5
}

func isUnreservedChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return c == '-' || c == '.' || c == '_' || c == '~'
}

func isSubDelim(c byte) bool {
	switch c {
	case '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=':
		return true
	}
	return false
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// quotedStringEnd returns the length of the quoted-string at the start of b
// (RFC 9110 §5.6.4), or -1 when b does not start with a complete one.
func quotedStringEnd(b []byte) int {
	if len(b) == 0 || b[0] != '"' {
		return -1
	}
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			i++
			if i >= len(b) || !isFieldValueChar(b[i]) {
				return -1
			}
		case !isFieldValueChar(c):
			return -1
		}
	}
	return -1
}
