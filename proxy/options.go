package proxy

import (
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Options configures a Proxy. The zero value of every field except Addr has a
// usable default.
type Options struct {
	// Addr is the TCP listen address; "127.0.0.1:0" picks a free port.
	Addr string
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
	// DialTimeout bounds connecting to an endpoint. Zero: 2s.
	DialTimeout time.Duration
	// IdleTimeout is how long a client keep-alive connection may sit between
	// requests, and an upstream connection in the idle pool, before it is
	// closed. Zero: 90s.
	IdleTimeout time.Duration
	// TrustedProxies lists the addresses of proxies in front of this one
	// (a load balancer, a CDN) whose X-Forwarded-For, X-Forwarded-Proto,
	// X-Forwarded-Host, Forwarded and X-Real-IP headers are kept: the
	// client's address is appended to their X-Forwarded-For. From any other
	// client those headers are dropped and X-Forwarded-For is set to the
	// client's address and X-Forwarded-Proto to the listener's scheme.
	// Empty: no client is trusted.
	TrustedProxies []netip.Prefix
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
	if o.DialTimeout <= 0 {
		o.DialTimeout = 2 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 90 * time.Second
	}
	return o
}

func (o Options) validate() error {
	if o.Addr == "" {
		return fmt.Errorf("proxy options: Addr is empty; set a listen address such as 127.0.0.1:8080")
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
