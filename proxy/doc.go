// Package proxy is gantry's data plane: one Proxy per app and environment
// listens on one address and sends each HTTP/1.x request to a ready instance
// of an active revision, chosen by weight.
//
// The request path is a purpose-built HTTP/1.1 forwarder on net.Conn: one
// goroutine per client connection (none per request), request and response
// heads parsed in place in pooled bufio buffers without header maps, bodies
// streamed (Content-Length, chunked, close-delimited) and upgrades tunnelled.
// Routing reads an immutable table held in an atomic.Pointer, swapped by
// SetTable; per-revision metrics are atomic counters and a fixed-bucket
// histogram. Nothing on the request path takes a lock except the per-endpoint
// idle connection pool, whose critical section is a slice push or pop.
//
// A request is retried on another endpoint only when nothing of it can have
// reached a backend: the dial failed, or a reused keep-alive connection was
// found closed by the upstream before any byte was written to it. A request a
// backend may have seen is never sent twice.
package proxy
