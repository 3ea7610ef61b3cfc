package proxy

import "sync/atomic"

// Reason is why the proxy refused a request for the client's fault. Such
// requests are counted apart (Proxy.Rejections) and never in a revision's
// stats, so a client cannot raise a revision's error rate by sending bad
// requests.
type Reason uint8

// The reasons a request is refused, with the status the client gets.
const (
	reasonNone Reason = iota
	// ReasonRequestLine: the request line is not "method SP target SP
	// HTTP/1.x" (400).
	ReasonRequestLine
	// ReasonTarget: the request target has control characters or
	// whitespace, is neither origin-form, absolute-form nor "*", or names
	// an invalid authority (400).
	ReasonTarget
	// ReasonVersion: an HTTP version other than 1.0 and 1.1 (505).
	ReasonVersion
	// ReasonHeader: a header line is malformed: a name that is not a
	// token, a value with CR, NUL or another control character, an
	// obsolete folded line (400).
	ReasonHeader
	// ReasonHost: Host is missing (HTTP/1.1), repeated, or invalid (400).
	ReasonHost
	// ReasonFraming: the body's framing is ambiguous: Content-Length and
	// Transfer-Encoding together, differing or unparsable Content-Length
	// values, chunked applied twice, Transfer-Encoding in HTTP/1.0 (400).
	ReasonFraming
	// ReasonCoding: a transfer coding other than chunked (501).
	ReasonCoding
	// ReasonChunk: a malformed chunked body: a bare LF, a size that is not
	// hexadecimal, an extension or trailer outside the RFC 9112 grammar, a
	// line or trailer section over its bound (400).
	ReasonChunk
	// ReasonHeadTooLarge: the request head exceeds 8 KiB (431).
	ReasonHeadTooLarge
	// ReasonMethod: CONNECT, which the proxy does not tunnel (405).
	ReasonMethod
	// ReasonHeadTimeout: the request head did not arrive within
	// Options.HeaderTimeout (408).
	ReasonHeadTimeout
	// ReasonBodyTimeout: the client sent nothing of its request body for
	// Options.BodyTimeout (408).
	ReasonBodyTimeout
	// ReasonConnLimit: a connection beyond Options.MaxConns (503).
	ReasonConnLimit

	numReasons
)

var reasonNames = [numReasons]string{
	"", "request_line", "target", "version", "header", "host", "framing", "coding",
	"chunk", "head_too_large", "method", "head_timeout", "body_timeout", "conn_limit",
}

// String returns the reason's label in metrics, such as "framing".
func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// status returns the status code the client is answered with.
func (r Reason) status() int {
	switch r {
	case ReasonVersion:
		return 505
	case ReasonCoding:
		return 501
	case ReasonHeadTooLarge:
		return 431
	case ReasonMethod:
		return 405
	case ReasonHeadTimeout, ReasonBodyTimeout:
		return 408
	case ReasonConnLimit:
		return 503
	}
	return 400
}

// Rejection counts the requests refused for one reason.
type Rejection struct {
	Reason Reason
	// Count is the number of requests (or, for ReasonConnLimit,
	// connections) refused for Reason since the proxy started.
	Count uint64
}

// rejections holds the live counters, one per reason.
type rejections [numReasons]atomic.Uint64

func (r *rejections) add(reason Reason) { r[reason].Add(1) }

// Rejections returns the number of requests refused for the client's fault,
// per reason, in the order of the Reason constants; reasons never seen are
// included with a zero count.
func (p *Proxy) Rejections() []Rejection {
	out := make([]Rejection, 0, numReasons-1)
	for r := Reason(1); r < numReasons; r++ {
		out = append(out, Rejection{Reason: r, Count: p.rejected[r].Load()})
	}
	return out
}
