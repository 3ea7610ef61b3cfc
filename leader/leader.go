package leader

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Role is what a server is in an election.
type Role int

// Roles.
const (
	// Follower: another server leads (or none does yet); this one serves
	// reads and passes writes on.
	Follower Role = iota + 1
	// Leader: this server runs the rollout engine.
	Leader
)

// String returns "follower" or "leader".
func (r Role) String() string {
	switch r {
	case Follower:
		return "follower"
	case Leader:
		return "leader"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// MarshalText writes the role's name.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a role's name as String writes it.
func (r *Role) UnmarshalText(b []byte) error {
	switch string(b) {
	case "follower":
		*r = Follower
	case "leader":
		*r = Leader
	default:
		return fmt.Errorf("unknown role %q: want leader or follower", b)
	}
	return nil
}

// Info identifies a leader.
type Info struct {
	// ID names the server, such as "host:pid"; unique among live servers.
	ID string `json:"id"`
	// APIURL is the server's advertised API base URL, such as
	// http://10.0.0.5:7070; followers pass writes there.
	APIURL string `json:"apiUrl"`
	// Since is when it began to lead; zero for a server not leading.
	Since time.Time `json:"since,omitzero"`
	// Term counts leaderships of the database, from 1; every takeover
	// increases it. 0 with the Local elector.
	Term int64 `json:"term,omitempty"`
}

// ErrNoLeader: no server leads at the moment (a takeover is under way).
var ErrNoLeader = errors.New("no gantry server leads at the moment")

// Elector takes part in the election of a leader. Implementations are safe
// for concurrent use.
type Elector interface {
	// TryLead tries once to become the leader and reports whether this
	// server leads now. It returns true at once if it already leads.
	TryLead(ctx context.Context) (bool, error)
	// Lead waits until this server leads, trying again every poll, or
	// until ctx ends (then ctx's error).
	Lead(ctx context.Context) error
	// Leader returns the current leader as last seen; ErrNoLeader when
	// there is none.
	Leader(ctx context.Context) (Info, error)
	// Role reports whether this server leads.
	Role() Role
	// Lost is closed when this server, having led, no longer does; it
	// must then stop acting as the leader at once. It never closes for an
	// elector that has not led.
	Lost() <-chan struct{}
	// Close gives leadership up, if held, and releases the elector's
	// resources.
	Close() error
}
