package proxy

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// Options configures a Proxy. The zero value of every field except Addr has a
// usable default.
type Options struct {
	// Addr is the TCP listen address; "127.0.0.1:0" picks a free port.
	// Ignored when Listener is set.
	Addr string
	// Listener, when set, is served instead of binding Addr: a listening
	// socket handed over by an earlier proxy process (see Proxy.File), so
	// connections waiting in its backlog are not refused. The Proxy owns it
	// and closes it on Shutdown. Nil: bind Addr.
	Listener net.Listener
	// Table is served from the first connection accepted (SetTable
	// replaces it): connections waiting in an inherited Listener's
	// backlog are accepted at once and must find the routes, not a 503.
	// Zero: no route until SetTable.
	Table Table
	// Name labels the proxy in log lines, such as "gemini-api/production".
	// Empty: "proxy".
	Name string
	// StickyCookie is the name of the cookie that pins a client to a
	// revision. Empty: no stickiness, every request is chosen by weight.
	StickyCookie string
	// MaxIdlePerEndpoint is how many idle keep-alive upstream connections are
	// kept per endpoint. Keep it at least as large as the client concurrency,
	// or upstream connections churn. Zero: 256. Negative: no idle
	// connections are kept (every request dials).
	MaxIdlePerEndpoint int

	// Timeouts, nginx-like. Each is enforced within an eighth of its value;
	// zero means the default, negative is invalid.

	// HeaderTimeout bounds reading a request head: from the connection's
	// start for its first request, from the first byte of the head for
	// later ones. A client that sent part of a head gets 408; one that sent
	// nothing is closed. Zero: 60s (nginx's client_header_timeout).
	HeaderTimeout time.Duration
	// BodyTimeout is the longest the client may send nothing while its
	// request body is expected; then it gets 408 and the upstream exchange
	// is abandoned. Zero: 60s (client_body_timeout).
	BodyTimeout time.Duration
	// DialTimeout bounds connecting to an endpoint; a request whose
	// endpoints all time out gets 504. Zero: 2s.
	DialTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for an upstream's response head
	// once the request is sent; then the client gets 504, charged to the
	// revision. Zero: 60s (proxy_read_timeout).
	ResponseHeaderTimeout time.Duration
	// UpstreamTimeout is the longest an upstream may send nothing of its
	// response body, or accept nothing of the request body; then the
	// exchange ends (502 if nothing was sent to the client yet, else the
	// client connection is closed mid-body). Zero: 60s (proxy_read_timeout,
	// proxy_send_timeout).
	UpstreamTimeout time.Duration
	// ClientWriteTimeout is the longest a client may accept nothing of its
	// response; then its connection is closed and the request counted as
	// client closed. Zero: 60s (send_timeout).
	ClientWriteTimeout time.Duration
	// IdleTimeout is how long a client keep-alive connection may sit between
	// requests, and an upstream connection in the idle pool, before it is
	// closed. Zero: 75s (keepalive_timeout).
	IdleTimeout time.Duration
	// MaxConns caps the client connections served at once. At the cap, idle
	// keep-alive connections are closed to make room; when none is idle the
	// new connection is answered 503 and closed. Zero: half the process's
	// open-file limit (each client connection may hold an upstream one), at
	// least 64.
	MaxConns int
	// TLS, when set, makes the listener terminate TLS with the certificate in
	// these files, loaded again when they change (checked at most once a
	// second, on a handshake; connections keep the certificate they began
	// with). Clients speak HTTP/1.1 over TLS 1.2 or 1.3 (ALPN offers
	// http/1.1 only) and upstreams get X-Forwarded-Proto: https. Nil:
	// plain HTTP.
	TLS *TLSFiles
	// TrustedProxies lists the addresses of proxies in front of this one
	// (a load balancer, a CDN) whose X-Forwarded-For, X-Forwarded-Proto,
	// X-Forwarded-Host, Forwarded and X-Real-IP headers are kept: the
	// client's address is appended to their X-Forwarded-For. From any other
	// client those headers are dropped and X-Forwarded-For is set to the
	// client's address and X-Forwarded-Proto to the listener's scheme.
	// Empty: no client is trusted.
	TrustedProxies []netip.Prefix
	// EventLoops is how many event loops serve plain-HTTP client
	// connections (Linux only; see docs/architecture.md): each a goroutine
	// (parked on Go's poller when idle) with its own epoll set and upstream
	// connection pool, which reads request heads and relays bodiless
	// exchanges with Content-Length or empty responses without a Go
	// scheduler round per socket event; anything else (request bodies,
	// upgrades, chunked or close-delimited responses, a client slow to
	// read) is handed to a goroutine. Zero: GOMAXPROCS. Negative: none,
	// every connection is served by its own goroutine (also with TLS, and
	// on other systems).
	EventLoops int
	// Logf receives notable events (dial failures, upstream errors,
	// malformed requests). Nil: silent.
	Logf func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = "proxy"
	}
	if o.MaxIdlePerEndpoint == 0 {
		o.MaxIdlePerEndpoint = 256
	}
	if o.MaxIdlePerEndpoint < 0 {
		o.MaxIdlePerEndpoint = 0
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&o.HeaderTimeout, 60 * time.Second},
		{&o.BodyTimeout, 60 * time.Second},
		{&o.DialTimeout, 2 * time.Second},
		{&o.ResponseHeaderTimeout, 60 * time.Second},
		{&o.UpstreamTimeout, 60 * time.Second},
		{&o.ClientWriteTimeout, 60 * time.Second},
		{&o.IdleTimeout, 75 * time.Second},
	} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if o.MaxConns <= 0 {
		o.MaxConns = defaultMaxConns()
	}
	return o
}

func (o Options) validate() error {
	if o.Addr == "" && o.Listener == nil {
		return fmt.Errorf("proxy options: Addr is empty; set a listen address such as 127.0.0.1:8080")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"HeaderTimeout", o.HeaderTimeout}, {"BodyTimeout", o.BodyTimeout}, {"DialTimeout", o.DialTimeout},
		{"ResponseHeaderTimeout", o.ResponseHeaderTimeout}, {"UpstreamTimeout", o.UpstreamTimeout},
		{"ClientWriteTimeout", o.ClientWriteTimeout}, {"IdleTimeout", o.IdleTimeout},
	} {
		if d.v < 0 {
			return fmt.Errorf("proxy options: %s is %v; use a positive duration, or zero for the default", d.name, d.v)
		}
	}
	if o.MaxConns < 0 {
		return fmt.Errorf("proxy options: MaxConns is %d; use a positive number, or zero for the default", o.MaxConns)
	}
	for i := 0; i < len(o.StickyCookie); i++ {
		c := o.StickyCookie[i]
		if !isTokenChar(c) {
			return fmt.Errorf("proxy options: StickyCookie %q has character %q not allowed in a cookie name; use letters, digits, '-' or '_'", o.StickyCookie, c)
		}
	}
	return nil
}

// forwardedFor returns what the proxy tells upstreams about a client
// connecting from addr.
func (p *Proxy) forwardedFor(addr net.Addr) forwarded {
	f := forwarded{proto: "http"}
	if p.tlsConfig != nil {
		f.proto = "https"
	}
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		f.ip = []byte(addr.String())
		return f
	}
	ip := ap.Addr().Unmap()
	f.ip = []byte(ip.String())
	for _, pfx := range p.opts.TrustedProxies {
		if pfx.Contains(ip) {
			f.trusted = true
			break
		}
	}
	return f
}

// defaultMaxConns is half the soft open-file limit, at least 64.
func defaultMaxConns() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 1<<30 {
		return 1 << 14
	}
	return max(64, int(lim.Cur/2))
}
