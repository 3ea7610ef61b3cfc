package dataplane

import (
	"errors"
	"strconv"
	"time"

	"github.com/gantry-dev/gantry/metrics/activeusers"
	"github.com/gantry-dev/gantry/proxy"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/router"
)

// ErrStale: a desired state older than the one applied was refused, or one
// with the applied version but other content (another controller programs
// this data plane).
var ErrStale = errors.New("stale desired state")

// ErrBusy: the data plane is handing its listeners to a new process, or
// stopping; send the desired state again in a moment.
var ErrBusy = errors.New("data plane is handing over to a new process or stopping; try again")

// ErrNotFound: the data plane has no such environment.
var ErrNotFound = errors.New("environment not in the data plane")

// Environment is the whole desired state of one app environment's
// listeners, as the control plane sends it.
type Environment struct {
	// App and Name name the app and the environment.
	App, Name string
	// Version orders desired states: applying a version lower than the
	// applied one is refused with ErrStale; the same version again is a
	// no-op. Must be > 0.
	Version uint64
	// Listen is the main listener's address (host:port); empty or port 0:
	// a free loopback port, kept while Listen stays the same.
	Listen string
	// StickyCookie, when set, pins a client to one revision by this cookie.
	StickyCookie string
	// RouteTemplates, when set, count the main listener's requests per
	// route template too (proxy.Table.RouteTemplates); empty: not per route.
	RouteTemplates []string `json:",omitempty"`
	// UsersWindow and UserCookie count the main listener's active users
	// (proxy.Table.ActiveUsersWindow and UserCookie); zero: client
	// addresses over 5 minutes.
	UsersWindow time.Duration `json:",omitempty"`
	UserCookie  string        `json:",omitempty"`
	// UserSeed keys the hash of users' identities (proxy.Table.UserSeed):
	// the installation's, the same from every server, so that counts merge
	// across processes. Zero: the public zero seed.
	UserSeed activeusers.Seed `json:",omitzero"`
	// Listener configures the main listener; a change takes effect when the
	// listener is next opened (a changed Listen).
	Listener router.Listener
	// Routes are the revisions taking traffic: weights and addresses.
	Routes []router.Route
	// Maintenance answers every request 503 with Retry-After; Routes are
	// kept for when it ends.
	Maintenance bool
	// Preview, when set, opens a second listener serving its own routes.
	Preview *Preview
	// Traffic is what the control plane built Routes from, kept for it to
	// read back after a restart. The data plane does not use it.
	Traffic rollout.Traffic
}

// Preview is a preview listener: its address and routes.
type Preview struct {
	// Listen is its address; empty or port 0: a free loopback port.
	Listen string
	// Routes are what it serves (usually one revision).
	Routes []router.Route
}

// Boot identifies one run of the data plane process.
type Boot struct {
	// ID is random per run; counters restart with a new ID.
	ID string
	// StartedAt is when this run started.
	StartedAt time.Time
	// PID is the process ID serving the control socket.
	PID int
	// Binary identifies the process's executable (BinaryID); the control
	// plane upgrades a data plane whose binary differs from its own.
	// Empty when unknown (an in-process Plane).
	Binary string
	// Succeeded is set when this process was a standby that took over
	// from a data plane that died; nil otherwise.
	Succeeded *Succession `json:",omitempty"`
}

// EnvStatus is where an applied environment serves.
type EnvStatus struct {
	// Version is the applied desired state's version.
	Version uint64
	// Addr and PreviewAddr are the bound addresses; PreviewAddr is empty
	// without a preview listener.
	Addr, PreviewAddr string
	// Epoch counts the main listeners opened for the environment in this
	// boot: its counters start again from zero with each (a moved listener).
	Epoch uint64
}

// EnvState is one environment as the data plane holds it.
type EnvState struct {
	Environment
	Status EnvStatus
}

// State is everything the data plane holds.
type State struct {
	Boot         Boot
	Environments []EnvState
}

// Liveness is the data plane's answer to a health check: its run and the
// requests in flight over every listener.
type Liveness struct {
	Boot     Boot
	InFlight int64
	// Standby is set when the answering process is a standby (its own
	// control socket, StandbyFile); nil for the active data plane.
	Standby *StandbyState `json:",omitempty"`
}

// Counters are the data plane's cumulative counters.
type Counters struct {
	Boot         Boot
	Environments []EnvCounters
}

// EnvCounters are one environment's counters since its listener opened
// (Epoch) in this boot, read for the rollout engine and for exporters such
// as gantry's /metrics.
type EnvCounters struct {
	App, Env string
	Epoch    uint64
	// Revisions are the main listener's per-revision counters, ordered by
	// revision (0: requests no revision could take).
	Revisions []proxy.RevisionStats
	// Rejections are the requests refused for the client's fault, by reason.
	Rejections []proxy.Rejection
	// Routes are the main listener's per-revision counters per route
	// template (Environment.RouteTemplates); none without templates, and
	// only in a read of every environment (Plane.Counters with no app).
	Routes []proxy.RouteStats `json:",omitempty"`
	// DroppedRouteLabels counts route templates not counted because the
	// listener already counted routelabel.MaxTemplates of them.
	DroppedRouteLabels uint64 `json:",omitempty"`
	// Users are the main listener's sketches of each revision's distinct
	// users over the last window (proxy.ActiveUsers): revisions with users
	// only.
	Users []proxy.UserStats `json:",omitempty"`
}

// Origin names the origin of an environment's counters: a change means
// they restarted from zero (a new data plane process or a moved listener).
func (c Counters) Origin(e EnvCounters) string {
	return c.Boot.ID + "/" + strconv.FormatUint(e.Epoch, 10)
}
