package proxy

import (
	"sync/atomic"
	"time"

	"github.com/gantry-dev/gantry/metrics/routelabel"
)

// evConn is a client connection's state while an event loop serves it
// (evloop_linux.go). The goroutine path uses only preTried and preErr.
type evConn struct {
	// loop is the event loop serving the connection; nil once a goroutine
	// serves it (or always, without loops).
	loop atomic.Pointer[evLoop]

	fd       int
	phase    evPhase
	deadline time.Time // when the phase times out; zero: never
	watchAt  time.Time // when to check again on a client that hung up while waiting
	hungUp   bool      // the client signalled a hang-up while its exchange runs
	counted  bool      // the exchange is counted in flight on its route
	killed   bool      // kill reached the loop

	// The exchange under way.
	t         target
	stuck     *route
	setCookie []byte
	paths     *routelabel.Matcher
	pi        int
	start     time.Time
	x         exchangeState
	o         outcome // the outcome of a response the client has yet to take all of

	// preTried is an endpoint the loop could not connect to, with the
	// error, for the goroutine the request is handed to: it counts as
	// tried (see clientConn.connect).
	preTried *endpoint
	preErr   error
}

// evPhase is what a connection served by an event loop waits for.
type evPhase uint8

const (
	evHead    evPhase = iota // the client's next request head
	evConnect                // a new upstream connection to be established
	evSend                   // the upstream to accept the rest of the request head
	evAwait                  // the upstream's response
)
