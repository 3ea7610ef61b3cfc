package server

import (
	"context"
	"time"
)

// usersReadInterval is how often the leader reads the data plane's
// counters when nothing else does: router/remoterouter carries the active
// users' sketches it last read of a data plane process that goes away
// (an upgrade, a crash, a standby taking over), so a read within the
// window before it keeps the users counted. /metrics scrapes and status
// reads read them too.
const usersReadInterval = 15 * time.Second

// runUsersRead reads the data plane's counters every usersReadInterval
// until ctx ends (on the leader).
func (s *Server) runUsersRead(ctx context.Context) {
	tick := time.NewTicker(usersReadInterval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if r := s.leading().routes; r != nil {
				if sr, ok := r.router.(statsReader); ok {
					sr.AllStats()
				}
			}
		case <-ctx.Done():
			return
		}
	}
}
