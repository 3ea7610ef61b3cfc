package proxy

import (
	"bytes"
	"net/netip"
	"sort"
	"time"
	"unsafe"

	"github.com/gantry-dev/gantry/metrics/activeusers"
)

// UserStats are the distinct users one revision served over the last
// window (Table.ActiveUsersWindow), as a mergeable sketch.
type UserStats struct {
	// Revision, Group and Version are the revision's, as in RevisionStats.
	Revision int
	Group    string
	Version  string
	// Window is the length of the window counted (the users of up to a
	// fifth more may still be counted: the window moves by fifths).
	Window time.Duration
	// Users is the sketch of the users; Users.Estimate() is their number,
	// within about 1.6% (activeusers.StdError).
	Users activeusers.Sketch
}

// ActiveUsers returns, for every revision that served a user during the
// window ending now, the sketch of its users; ordered by revision, then
// group. Reading costs 24 KiB of register reads per revision.
func (p *Proxy) ActiveUsers() []UserStats {
	p.mu.Lock()
	all := make([]*revStats, 0, len(p.stats))
	for _, s := range p.stats {
		all = append(all, s)
	}
	p.mu.Unlock()
	now := time.Now().UnixNano()
	var out []UserStats
	for _, s := range all {
		us := UserStats{Revision: s.revision, Group: s.group, Window: s.users.Length(), Users: s.users.Sketch(now)}
		if us.Users == nil {
			continue
		}
		if v := s.version.Load(); v != nil {
			us.Version = *v
		}
		out = append(out, us)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Revision != out[j].Revision {
			return out[i].Revision < out[j].Revision
		}
		return out[i].Group < out[j].Group
	})
	return out
}

// setUsersWindow gives every revision's user count the table's window,
// the default when it is out of bounds (logged). Callers hold p.mu.
func (p *Proxy) setUsersWindow(t Table) {
	d := t.ActiveUsersWindow
	if d != 0 {
		if err := activeusers.ValidateWindow(d); err != nil {
			p.logf("%v; counting over %v", err, activeusers.DefaultWindow)
			d = 0
		}
	}
	for _, s := range p.stats {
		s.users.SetLength(d)
	}
}

// countUser counts the request's user among st's active users. The
// request path's hook: a hash (cached per connection for the client's
// address) and, for a user already counted, one atomic load.
func (c *clientConn) countUser(st *revStats, start time.Time) {
	st.users.Add(c.userHash(), start.UnixNano())
}

// userHash returns the hash, keyed with the table's UserSeed, of the
// identity of the request's user: the value of the table's UserCookie
// when the request carries it; else the client's address, the one a
// trusted proxy in front reported in X-Forwarded-For when the connection
// comes from one.
func (c *clientConn) userHash() uint64 {
	seed := c.p.routing.Load().userSeed
	if len(c.req.user) > 0 {
		return seed.Hash(c.req.user)
	}
	if c.fwd.trusted && c.req.hasXFF {
		if ip := c.req.forwardedClient(c.p.opts.TrustedProxies); len(ip) > 0 {
			return seed.Hash(ip)
		}
	}
	if c.user == 0 {
		c.user = seed.Hash(c.fwd.ip)
	}
	return c.user
}

// headerValues calls f with the value of each header line named name
// (lowercase, with its colon: "cookie:") until f returns true. The head
// was validated by parse: a name is matched, not checked again.
func (r *request) headerValues(name string, f func(value []byte) bool) {
	for i := r.firstHdr; i < len(r.head); {
		var line []byte
		line, i = nextLine(r.head, i)
		if len(line) == 0 {
			return
		}
		if len(line) > len(name) && eqFold(line[:len(name)], name) && f(trimOWS(line[len(name):])) {
			return
		}
	}
}

// forwardedClient returns the client that the trusted proxies in front
// reported: the last X-Forwarded-For entry that is not itself one of
// them (the first entry when all are); nil without X-Forwarded-For.
func (r *request) forwardedClient(trusted []netip.Prefix) []byte {
	var client, first []byte
	r.headerValues("x-forwarded-for:", func(value []byte) bool {
		for len(value) > 0 {
			var entry []byte
			if j := bytes.IndexByte(value, ','); j >= 0 {
				entry, value = trimOWS(value[:j]), value[j+1:]
			} else {
				entry, value = trimOWS(value), nil
			}
			if len(entry) == 0 {
				continue
			}
			if first == nil {
				first = entry
			}
			if !isTrusted(entry, trusted) {
				client = entry
			}
		}
		return false
	})
	if client == nil {
		return first
	}
	return client
}

// isTrusted reports whether the address entry is in a trusted prefix.
func isTrusted(entry []byte, trusted []netip.Prefix) bool {
	// The string aliases the request head only for the parse: converting
	// would allocate on every request from a trusted proxy.
	ip, err := netip.ParseAddr(unsafe.String(unsafe.SliceData(entry), len(entry)))
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// UserWindow is one revision's live users window in the form that travels
// to another process (activeusers.Slots): what a data plane hands over.
type UserWindow struct {
	// Revision and Group are the revision's, as in RevisionStats.
	Revision int
	Group    string
	// Slots are the window's sub-windows with users.
	Slots activeusers.Slots
}

// UserWindows returns the users windows of the revisions that served a
// user during the window ending now, for CarryUsers in another Proxy.
func (p *Proxy) UserWindows() []UserWindow {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now().UnixNano()
	var out []UserWindow
	for k, s := range p.stats {
		if sl := s.users.Export(now); len(sl.Slots) > 0 {
			out = append(out, UserWindow{Revision: k.revision, Group: k.group, Slots: sl})
		}
	}
	return out
}

// CarryUsers counts the users of windows another Proxy served (its
// UserWindows) among this one's active users, each until it would have
// left the window there. Only revisions in the table count them: call it
// after SetTable. Windows of another length are skipped.
func (p *Proxy) CarryUsers(ws []UserWindow) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now().UnixNano()
	for _, w := range ws {
		if s := p.stats[statsKey{w.Revision, w.Group}]; s != nil {
			s.users.Import(w.Slots, now)
		}
	}
}
