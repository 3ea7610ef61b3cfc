package proxy

import (
	"bufio"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

const (
	upstreamReadBuf  = 16 << 10 // also the largest response head accepted
	upstreamWriteBuf = 16 << 10 // holds any request head (≤ clientReadBuf) plus added headers

	// peekAfterIdle is how long a connection must have been idle before it
	// is checked for a close by the upstream before reuse. Upstreams close
	// idle connections after their keep-alive timeout (seconds), which the
	// check catches; skipping it for connections reused within a few
	// milliseconds saves a system call per request under load. A connection
	// closed in that short window fails with 502 and is never re-sent.
	peekAfterIdle = 5 * time.Millisecond
)

// endpoint is the live state of one instance address: its in-flight count
// and its pool of idle keep-alive connections. It outlives table swaps while
// its address stays in the table.
type endpoint struct {
	id   string
	addr string
	ap   netip.AddrPort // addr parsed; invalid for a host name (event loops leave those to goroutines)

	inFlight atomic.Int64

	// removed is set when the endpoint left the table: requests that still
	// pick it (from an older table) choose again, and connections are closed
	// instead of pooled.
	removed atomic.Bool

	mu   sync.Mutex
	idle []*upstreamConn // LIFO stack of idle connections

	maxIdle     int
	dialTimeout time.Duration
	idleTimeout time.Duration
	timeout     time.Duration // Options.UpstreamTimeout
}

// upstreamConn is one connection to an endpoint with its buffers.
type upstreamConn struct {
	ep        *endpoint
	conn      net.Conn
	rio       *rawIO
	aw        awaitWriter // under bw
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time

	// While an event loop owns the connection (conn is nil then): its
	// socket, the client connection it serves (nil: idle in the loop's
	// pool), and whether the upstream signalled anything while idle.
	fd     int
	client *clientConn
	evSeen bool
}

// endpointFor returns the live endpoint for e, creating it or bringing a
// removed one back. Callers hold p.mu.
func (p *Proxy) endpointFor(e Endpoint) *endpoint {
	ep := p.endpoints[e.Addr]
	if ep == nil {
		ep = &endpoint{
			id:          e.ID, // kept for the endpoint's life: request goroutines log it
			addr:        e.Addr,
			ap:          parseAddrPort(e.Addr),
			maxIdle:     p.opts.MaxIdlePerEndpoint,
			dialTimeout: p.opts.DialTimeout,
			idleTimeout: p.opts.IdleTimeout,
			timeout:     p.opts.UpstreamTimeout,
		}
		p.endpoints[e.Addr] = ep
	}
	ep.mu.Lock()
	ep.removed.Store(false)
	ep.mu.Unlock()
	return ep
}

// get returns a connection to the endpoint: an idle one that is still open,
// or a new one. reused reports whether it came from the idle pool.
func (ep *endpoint) get() (uc *upstreamConn, reused bool, err error) {
	for {
		ep.mu.Lock()
		n := len(ep.idle)
		if n == 0 {
			ep.mu.Unlock()
			break
		}
		uc = ep.idle[n-1]
		ep.idle[n-1] = nil
		ep.idle = ep.idle[:n-1]
		ep.mu.Unlock()
		idle := time.Since(uc.idleSince)
		if idle > ep.idleTimeout || idle >= peekAfterIdle && !uc.open() {
			uc.conn.Close()
			continue
		}
		return uc, true, nil
	}
	uc, err = ep.dial()
	return uc, false, err
}

// dial opens a new connection to the endpoint.
func (ep *endpoint) dial() (*upstreamConn, error) {
	c, err := net.DialTimeout("tcp", ep.addr, ep.dialTimeout)
	if err != nil {
		return nil, err
	}
	return ep.wrap(c), nil
}

func (ep *endpoint) wrap(c net.Conn) *upstreamConn {
	uc := &upstreamConn{ep: ep, conn: c, rio: newRawIO(c)}
	uc.rio.writeTimeout = ep.timeout
	uc.br = bufio.NewReaderSize(uc.rio, upstreamReadBuf)
	uc.aw.init(uc.rio)
	uc.bw = bufio.NewWriterSize(&uc.aw, upstreamWriteBuf)
	return uc
}

// put returns a connection after a complete exchange, keeping it idle when
// the pool has room and the endpoint is still in the table.
func (ep *endpoint) put(uc *upstreamConn) {
	if uc.br.Buffered() > 0 { // bytes beyond the response: the stream is not in sync
		uc.conn.Close()
		return
	}
	uc.idleSince = time.Now()
	ep.mu.Lock()
	if ep.removed.Load() || len(ep.idle) >= ep.maxIdle {
		ep.mu.Unlock()
		uc.conn.Close()
		return
	}
	ep.idle = append(ep.idle, uc)
	ep.mu.Unlock()
}

// remove marks the endpoint as gone from the table and closes its idle
// connections; connections in use are closed when they are returned.
func (ep *endpoint) remove() {
	ep.mu.Lock()
	ep.removed.Store(true)
	idle := ep.idle
	ep.idle = nil
	ep.mu.Unlock()
	for _, uc := range idle {
		uc.conn.Close()
	}
}

// open reports whether an idle connection still looks usable: the upstream
// has neither closed it nor sent unsolicited bytes. It peeks without blocking
// and without consuming anything.
func (uc *upstreamConn) open() bool {
	return uc.rio.peek() == peerQuiet
}

// parseAddrPort parses an IP:port address; anything else (a host name) is
// the zero AddrPort.
func parseAddrPort(addr string) netip.AddrPort {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
