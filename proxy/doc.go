// Package proxy is gantry's data plane: one Proxy per app and environment
// listens on one address and sends each HTTP/1.x request to a ready instance
// of an active revision, chosen by weight.
//
// The request path is a purpose-built HTTP/1.1 forwarder: on Linux, plain
// client connections are served by per-core event loops (evloop_linux.go:
// one goroutine per loop, never blocked in a system call, with its own epoll
// set and upstream pool) for bodiless requests answered with a Content-Length or no
// body, and handed to a goroutine of their own for anything else; TLS
// connections and other systems have one goroutine per client connection
// (none per request). Request and response heads are parsed in place in
// pooled bufio buffers without header maps, bodies streamed (Content-Length,
// chunked, close-delimited) and upgrades tunnelled.
// Routing reads an immutable table held in an atomic.Pointer, swapped by
// SetTable; per-revision metrics are atomic counters and a fixed-bucket
// histogram. Nothing on the request path takes a lock except the per-endpoint
// idle connection pool, whose critical section is a slice push or pop.
//
// Requests are parsed strictly by RFC 9112 and never forwarded with the
// client's own framing: the head sent upstream is rebuilt line by line
// (origin-form target, one Host, hop-by-hop and, from untrusted clients,
// forwarded headers removed, one Content-Length or Transfer-Encoding:
// chunked written by the proxy) and chunked bodies are decoded and
// re-encoded, extensions and trailers checked and dropped. Control
// characters, non-token header names, ambiguous framing, invalid Host
// values and malformed chunks are refused (400, or 501/505/431/405) and
// counted by Reason apart from every revision, so a client cannot raise a
// revision's error rate. Upstream response heads that could split or
// desynchronise the response (CR or NUL in a value, conflicting framing)
// are answered 502.
//
// A request is retried on another endpoint only when nothing of it can have
// reached a backend: the dial failed, or a reused keep-alive connection was
// found closed by the upstream before any byte was written to it (a
// non-blocking MSG_PEEK on connections idle for more than 5ms, or a first
// write that fails having written nothing). A request a backend may have
// seen is never sent twice: an upstream that fails after receiving it yields
// 502.
//
// Why not net/http/httputil.ReverseProxy or valyala/fasthttp: ReverseProxy
// costs a goroutine hand-off, header maps and allocations per request
// (about half of nginx's throughput on a 2-core machine). fasthttp's client
// buffers whole bodies unless told otherwise, retries idempotent requests on
// reused connections by default, and has no client-side upgrade support, so
// streaming, WebSockets and the never-re-send rule would each need working
// around. The forwarder here is small enough to own.
//
// Timeouts and limits follow nginx (see Options for each and its default):
// a request head must arrive within HeaderTimeout (408), a request body may
// stall for BodyTimeout (408), an upstream has DialTimeout to accept the
// connection and ResponseHeaderTimeout to answer (504), UpstreamTimeout per
// stall of its body, a client ClientWriteTimeout per stall in reading the
// response and IdleTimeout between requests. While a request waits for its
// response the proxy checks the client every second and abandons the
// upstream exchange when the client has gone. MaxConns caps client
// connections: at the cap idle keep-alive connections are closed to make
// room, else the newcomer gets 503; running out of file descriptors does
// the same and backs off instead of spinning.
//
// With Options.TLS the listener terminates TLS (1.2 and 1.3, ALPN
// http/1.1) with a certificate loaded from files and reloaded when they
// change; connections already open keep theirs. Upstreams are spoken to in
// plain HTTP/1.1.
//
// Limits: request bodies are sent before the response is read (no
// full-duplex exchange; an upstream that answers early, e.g. 413, is still
// relayed); HTTP/2 is not spoken on either side (ALPN never offers h2); request heads are limited
// to 8 KiB (431) and response heads to 16 KiB (502); trailers are dropped;
// upgraded (WebSocket) connections have no read timeout.
package proxy
