package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Proxy forwards the HTTP/1.x requests arriving on one address to the
// endpoints of the revisions in its Table. It is safe for concurrent use.
type Proxy struct {
	opts     Options
	ln       net.Listener
	routing  atomic.Pointer[routing]
	noRoute  *revStats // requests no revision could take (revision 0)
	rejected rejections
	// tlsConfig terminates TLS on client connections; nil: plain HTTP.
	tlsConfig *tls.Config

	mu          sync.Mutex
	stats       map[statsKey]*revStats
	routeLabels routeLabels
	endpoints   map[string]*endpoint
	conns       map[*clientConn]struct{}

	refusing atomic.Int32 // connections being answered 503 beyond MaxConns
	shutting atomic.Bool
	accepted sync.WaitGroup // the accept loop
	served   sync.WaitGroup // client connections

	loops     []*evLoop      // event loops serving plain connections; none: goroutines
	nextLoop  int            // the loop the next connection goes to (accept loop only)
	loopsDone sync.WaitGroup // the loops' goroutines
	// loopsStopping is set (under mu) once the loops are told to stop.
	loopsStopping bool
	// acceptFile is a duplicate of the listening socket the accept loop of
	// event loops (Linux) waits on; Shutdown closes it. Under mu.
	acceptFile *os.File
}

// Listen binds opts.Addr and starts serving in background goroutines with an
// empty table (every request gets 503 until SetTable).
func Listen(opts Options) (*Proxy, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	var tc *tls.Config
	if opts.TLS != nil {
		var err error
		if tc, err = tlsConfig(*opts.TLS, func(format string, args ...any) {
			if opts.Logf != nil {
				opts.Logf("proxy "+opts.Name+": "+format, args...)
			}
		}); err != nil {
			return nil, fmt.Errorf("proxy %s: %w", opts.Name, err)
		}
	}
	ln := opts.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", opts.Addr); err != nil {
			return nil, fmt.Errorf("proxy %s: listen on %s: %w", opts.Name, opts.Addr, err)
		}
	}
	p := &Proxy{
		opts:      opts,
		ln:        ln,
		stats:     map[statsKey]*revStats{},
		endpoints: map[string]*endpoint{},
		conns:     map[*clientConn]struct{}{},
		tlsConfig: tc,
	}
	p.noRoute = p.statsFor(statsKey{}, "")
	p.routing.Store(&routing{})
	if len(opts.Table.Revisions) > 0 {
		p.SetTable(opts.Table)
	}
	p.startLoops()
	p.accepted.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr returns the address the proxy listens on, with the port it bound.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// File returns a duplicate of the listening socket's file descriptor, for
// handing the listener to another process (which serves it through
// Options.Listener). The caller closes the file; the Proxy keeps serving.
func (p *Proxy) File() (*os.File, error) {
	fl, ok := p.ln.(interface{ File() (*os.File, error) })
	if !ok {
		return nil, fmt.Errorf("proxy %s: listener %T has no file descriptor", p.opts.Name, p.ln)
	}
	return fl.File()
}

// SetTable replaces the routing table. Requests already routed finish on
// the endpoints they were sent to; endpoints no longer in the table have
// their idle connections closed. Safe concurrently with traffic.
func (p *Proxy) SetTable(t Table) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rt := p.compile(t)
	p.setUsersWindow(t)
	p.routing.Store(rt)
	live := make(map[*endpoint]bool, rt.endpoints)
	for _, r := range rt.routes {
		for _, ep := range r.endpoints {
			live[ep] = true
		}
	}
	removed := false
	for addr, ep := range p.endpoints {
		if live[ep] {
			continue
		}
		removed = removed || !ep.removed.Load()
		ep.remove()
		if ep.inFlight.Load() == 0 {
			delete(p.endpoints, addr)
		}
	}
	if removed {
		p.sweepLoops() // the loops' own pools
	}
}

// WaitIdle returns when no request is in flight to the endpoint at
// endpointAddr (including open upgraded connections), or with ctx's error.
// Use it to drain an instance after removing it from the table and before
// stopping it. An address the proxy does not know is idle.
func (p *Proxy) WaitIdle(ctx context.Context, endpointAddr string) error {
	p.mu.Lock()
	ep := p.endpoints[endpointAddr]
	p.mu.Unlock()
	if ep == nil {
		return nil
	}
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for ep.inFlight.Load() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("proxy %s: wait for %s to drain (%d in flight): %w",
				p.opts.Name, endpointAddr, ep.inFlight.Load(), ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// Shutdown stops accepting connections, closes idle client connections,
// waits for in-flight requests to finish, then closes upstream connections.
// When ctx ends first, remaining connections are closed and ctx's error is
// returned.
//
// A connection accepted but whose first request has not arrived yet is
// given idleGrace to send it (its client, unlike one on a kept-alive
// connection, would not retry); that request is served, then the
// connection closes. Idle kept-alive connections are closed at once: the
// listener is going away (see HandOver when another process keeps
// serving its socket).
func (p *Proxy) Shutdown(ctx context.Context) error { return p.shutdown(ctx, false) }

// HandOver is Shutdown for a listening socket that another process keeps
// serving (an upgrade: the new process holds the same socket). A client
// connection is closed only once it has stayed idle (no request head
// arriving) for idleGrace since HandOver began: closing one the moment it
// is idle would race with the request its client may be sending (a reset,
// or an empty reply that a client retries only for an idempotent request,
// if at all). A request that arrives meanwhile is served with Connection:
// close, and the client's next connection is accepted by the other process.
func (p *Proxy) HandOver(ctx context.Context) error { return p.shutdown(ctx, true) }

func (p *Proxy) shutdown(ctx context.Context, graceKeptAlive bool) error {
	p.shutting.Store(true)
	p.ln.Close()
	p.wakeAccept()
	p.accepted.Wait()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	// quiet is, per connection, its head count when first seen idle and
	// when that was; reset whenever it received a head since.
	type seen struct {
		heads uint32
		at    time.Time
	}
	quiet := map[*clientConn]seen{}
	var err error
	for {
		now := time.Now()
		p.mu.Lock()
		n := len(p.conns)
		for c := range p.conns {
			if err != nil {
				c.kill()
				continue
			}
			if !c.idle.Load() {
				delete(quiet, c)
				continue
			}
			if !graceKeptAlive && !c.fresh.Load() {
				c.kill()
				continue
			}
			h := c.heads.Load()
			q, ok := quiet[c]
			if !ok || q.heads != h {
				q = seen{heads: h, at: now}
				if c.fresh.Load() {
					q.at = c.started
				}
				quiet[c] = q
			}
			if now.Sub(q.at) > idleGrace {
				c.kill()
			}
		}
		p.mu.Unlock()
		if n == 0 || err != nil {
			break
		}
		select {
		case <-ctx.Done():
			err = fmt.Errorf("proxy %s: shutdown with requests in flight: %w", p.opts.Name, ctx.Err())
		case <-t.C:
		}
	}
	p.served.Wait()
	p.stopLoops()
	p.mu.Lock()
	for _, ep := range p.endpoints {
		ep.remove()
	}
	p.mu.Unlock()
	return err
}

// idleGrace is how long Shutdown lets an idle client connection send its
// next request (for a new connection: its first, counted from its accept).
const idleGrace = time.Second

func (p *Proxy) acceptLoop() {
	defer p.accepted.Done()
	if p.acceptToLoops() {
		return
	}
	var backoff time.Duration
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if p.acceptFailed(err, &backoff) {
				return
			}
			continue
		}
		backoff = 0
		switch cc, v := p.admit(func() *clientConn { return newClientConn(p, c) }); v {
		case admitStop:
			c.Close()
			return
		case admitRefuse:
			p.refuseConn(c)
		default:
			go cc.serve()
		}
	}
}

// acceptFailed handles an accept error and reports whether accepting is
// over (the listener closed). Out of file descriptors or similar: it makes
// room by closing idle keep-alive connections, and backs off rather than
// spin (the pending connection stays in the backlog meanwhile).
func (p *Proxy) acceptFailed(err error, backoff *time.Duration) bool {
	if p.shutting.Load() || errors.Is(err, net.ErrClosed) {
		return true
	}
	if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		p.mu.Lock()
		p.reclaimIdle(reclaimOnEMFILE)
		p.mu.Unlock()
	}
	*backoff = min(max(2**backoff, 5*time.Millisecond), time.Second)
	p.logf("accept: %v; retrying in %v", err, *backoff)
	time.Sleep(*backoff)
	return false
}

// admission is what becomes of an accepted connection.
type admission uint8

const (
	admitServe  admission = iota // served (the connection is registered)
	admitRefuse                  // over MaxConns with none idle: answer 503 (counted in p.served)
	admitStop                    // shutting down: close it
)

// admit registers the connection newConn makes, unless the proxy is
// shutting down or at MaxConns with no idle connection to close.
func (p *Proxy) admit(newConn func() *clientConn) (*clientConn, admission) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shutting.Load() {
		return nil, admitStop
	}
	if len(p.conns) >= p.opts.MaxConns && p.reclaimIdle(1) == 0 {
		p.served.Add(1)
		return nil, admitRefuse
	}
	cc := newConn()
	p.conns[cc] = struct{}{}
	p.served.Add(1)
	return cc, admitServe
}

// reclaimOnEMFILE is how many idle connections are closed when the process
// runs out of file descriptors.
const reclaimOnEMFILE = 16

// reclaimIdle closes up to n client connections that sit idle between
// requests, as nginx does when it runs out of connections, and returns how
// many it closed. Callers hold p.mu.
func (p *Proxy) reclaimIdle(n int) int {
	closed := 0
	for c := range p.conns {
		if closed == n {
			break
		}
		if c.keptAlive.CompareAndSwap(true, false) {
			c.kill()
			closed++
		}
	}
	return closed
}

// maxRefusing bounds the connections being answered 503 at once; beyond
// it, connections over the cap are closed without an answer.
const maxRefusing = 64

var connLimitResponse = closingErrorResponse(503, "too many connections\n")

// refuseConn answers a connection beyond MaxConns with 503 and closes it,
// in the background. The caller has added it to p.served.
func (p *Proxy) refuseConn(c net.Conn) {
	p.rejected.add(ReasonConnLimit)
	if p.refusing.Add(1) > maxRefusing {
		p.refusing.Add(-1)
		c.Close()
		p.served.Done()
		return
	}
	go func() {
		defer p.served.Done()
		defer p.refusing.Add(-1)
		c.SetWriteDeadline(time.Now().Add(time.Second))
		c.Write(connLimitResponse)
		lingerClose(c)
		c.Close()
	}()
}

func (p *Proxy) forget(c *clientConn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	p.served.Done()
}

func (p *Proxy) logf(format string, args ...any) {
	if p.opts.Logf != nil {
		p.opts.Logf("proxy "+p.opts.Name+": "+format, args...)
	}
}
