package router

import (
	"context"
	"net/netip"
	"time"

	"github.com/gantry-dev/gantry/metrics/activeusers"
	"github.com/gantry-dev/gantry/rollout"
)

// Router splits the traffic of every app environment it has opened between
// the ready instances of its revisions. It is safe for concurrent use.
type Router interface {
	// SetTraffic replaces how an opened environment's traffic is split
	// (rollout.Router); an environment that is not open is an error.
	rollout.Router
	// RevisionMetrics reports the cumulative request counts and latency
	// histogram per revision that the router has seen (rollout.MetricSource).
	rollout.MetricSource

	// Open starts routing an environment, or brings an open one to e: a
	// changed listen address gets a new listener, opened before the old one
	// closes, so an address that cannot be had leaves the environment served
	// as it was (and returns the error). The traffic split and instances set
	// before are kept.
	Open(e Environment) error
	// SetInstances replaces what an environment's routes are built from:
	// every instance of every revision, of which only the ready, running ones
	// take traffic. Calls for an environment that is not open are ignored
	// (nil error): a backend reports instances of apps not applied yet.
	SetInstances(app, env string, instances []rollout.Instance) error
	// SetMaintenance takes an environment out of service (on): every
	// request is answered 503 with Retry-After, until it is called with off.
	SetMaintenance(app, env string, on bool) error
	// Drain returns when no request is in flight to addr (host:port) in any
	// environment, or with ctx's error. Call it after the instance at addr is
	// out of the routes and before stopping it.
	Drain(ctx context.Context, addr string) error
	// Addr returns the address users reach an environment on, "" when it is
	// not open.
	Addr(app, env string) string
	// PreviewAddr returns the address of an environment's preview listener,
	// "" when it has none.
	PreviewAddr(app, env string) string
	// Stats reports an environment's traffic per revision: its share of new
	// requests and what it served. Nil when the environment is not open.
	Stats(app, env string) []RevisionStats
	// Close stops routing every environment, letting requests in flight
	// finish until ctx ends. The Router is unusable afterwards.
	Close(ctx context.Context) error
}

// Environment is what a router needs to serve one app environment.
type Environment struct {
	// App and Name name the app and the environment.
	App, Name string
	// Listen is the address users reach the environment on (host:port);
	// empty or port 0: a free loopback port.
	Listen string
	// StickyCookie, when set, pins a client to one revision by this cookie;
	// empty: no pinning.
	StickyCookie string
	// RouteTemplates, when set, label the environment's request counters
	// by route template too (spec.metrics.routes); routers that cannot
	// count per route ignore them.
	RouteTemplates []string
	// UsersWindow and UserCookie say how the environment's active users
	// are counted (spec.metrics.activeUsers: the window, and the cookie
	// whose value names a user); zero: client addresses over 5 minutes.
	// Routers that do not count users ignore them.
	UsersWindow time.Duration
	UserCookie  string
	// UserSeed keys the hash of users' identities: the installation's
	// (activeusers.Seed), so that every process's counts merge; zero: the
	// public zero seed.
	UserSeed activeusers.Seed
	// Preview asks for a second listener that serves only the revision
	// rollout.Traffic.Preview names, before it takes real traffic. Which
	// rollouts need one is the strategy's business, not the router's.
	Preview bool
	// PreviewListen is the preview listener's address when Preview is set;
	// empty or port 0: a free loopback port.
	PreviewListen string
	// Listener configures the main listener's timeouts, connection cap,
	// trusted proxies and TLS; its zero value means the router's defaults.
	// A change takes effect when the listener is next opened (a changed
	// Listen address, or a restart).
	Listener Listener
}

// Listener is how an environment's listener treats clients and upstreams.
// Zero durations and counts mean the router's defaults.
type Listener struct {
	// HeaderTimeout, BodyTimeout, ConnectTimeout, ResponseHeaderTimeout,
	// UpstreamTimeout, ClientWriteTimeout and IdleTimeout bound, in turn:
	// reading a request head; a stall of a request body; connecting to an
	// instance; an instance's wait before its response head; a stall of
	// its response body; a client's stall in taking its response; a
	// client's keep-alive idle time between requests.
	HeaderTimeout, BodyTimeout, ConnectTimeout, ResponseHeaderTimeout time.Duration
	UpstreamTimeout, ClientWriteTimeout, IdleTimeout                  time.Duration
	// MaxConns caps the client connections served at once.
	MaxConns int
	// TrustedProxies are the proxies in front whose forwarded headers are
	// kept; empty: none.
	TrustedProxies []netip.Prefix
	// CertFile and KeyFile, when set, terminate TLS with this PEM
	// certificate and key, reloaded when the files change.
	CertFile, KeyFile string
}

// RevisionStats is what one revision served in one environment.
type RevisionStats struct {
	// Revision is the revision number; 0 for requests no revision could
	// take (an empty table).
	Revision int
	// Group is the group of the revision's instances counted here
	// (rollout.GroupBaseline), reported apart; empty: its primary ones.
	Group string
	// Weight is the revision's current share of new requests, in percent.
	Weight float64
	// Requests counts finished requests; Errors the 5xx answers among them,
	// from instances or from the router itself; ClientClosed those whose
	// client went away first (never errors).
	Requests, Errors, ClientClosed uint64
	// InFlight counts requests being served now.
	InFlight int64
	// P50, P95 and P99 are latency quantiles; zero without requests.
	P50, P95, P99 time.Duration
	// ActiveUsers is the estimated number of distinct users over the
	// environment's window (UsersWindow); zero when none, or when the
	// router does not count users.
	ActiveUsers float64
}
