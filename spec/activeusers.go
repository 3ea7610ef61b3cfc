package spec

import (
	"time"

	"github.com/gantry-dev/gantry/metrics/activeusers"
)

// ActiveUsersSpec configures the count of each revision's distinct users
// (spec.metrics.activeUsers, gantry_active_users).
type ActiveUsersSpec struct {
	// Window is how far back a revision's distinct users are counted: a
	// duration from 10s to 24h, such as "5m". Empty: 5m.
	Window string `json:"window,omitempty"`
	// Cookie names a cookie whose value identifies a user, such as the
	// app's session cookie; requests without it count by client address.
	// Empty: users are client addresses (behind a trusted proxy, the
	// client it reports in X-Forwarded-For).
	Cookie string `json:"cookie,omitempty"`
}

// UsersWindow returns activeUsers.window (validated), zero when unset.
func (m *MetricsSpec) UsersWindow() time.Duration {
	if m == nil || m.ActiveUsers == nil {
		return 0
	}
	d, _ := time.ParseDuration(m.ActiveUsers.Window)
	return d
}

// UserCookie returns activeUsers.cookie, empty when unset.
func (m *MetricsSpec) UserCookie() string {
	if m == nil || m.ActiveUsers == nil {
		return ""
	}
	return m.ActiveUsers.Cookie
}

// activeUsers checks spec.metrics.activeUsers: a window within bounds and
// a cookie name.
func (v *validator) activeUsers(path string, u *ActiveUsersSpec) {
	if u == nil {
		return
	}
	if u.Window != "" {
		wpath := joinField(path, "window")
		if d, err := time.ParseDuration(u.Window); err != nil {
			v.add(wpath, "%q is not a duration; use a number with a unit, such as \"5m\"", u.Window)
		} else if err := activeusers.ValidateWindow(d); err != nil {
			v.add(wpath, "%v", err)
		}
	}
	if u.Cookie != "" && !validCookieName(u.Cookie) {
		v.add(joinField(path, "cookie"), "%q is not a cookie name; use letters, digits, '-' or '_'", u.Cookie)
	}
}
