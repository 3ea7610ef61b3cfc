package proxy

import (
	"io"
	"testing"

	"github.com/gantry-dev/gantry/internal/loopback"
)

// TestProxy_CarryUsers hands one proxy's users windows to another (as a
// data plane upgrade does): the users of both are counted once, and only
// for revisions in the receiving proxy's table.
func TestProxy_CarryUsers(t *testing.T) {
	up := startUpstream(t, nameServer("1"))
	send := func(p *Proxy, from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			c := loopback.Client(loopback.Addr(i))
			resp, err := c.Get("http://" + p.Addr() + "/")
			if err != nil {
				t.Fatalf("client %v: %v", loopback.Addr(i), err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			c.CloseIdleConnections()
		}
	}
	old := startProxy(t, Options{})
	old.SetTable(table(rev(1, 1, up)))
	send(old, 0, 40)
	next := startProxy(t, Options{})
	next.SetTable(table(rev(1, 1, up)))
	send(next, 20, 60) // 20 come back, 20 are new
	next.CarryUsers(old.UserWindows())
	checkUsers(t, "after the carry", usersOf(next, 1), 60)

	other := startProxy(t, Options{})
	other.SetTable(table(rev(2, 1, up)))
	other.CarryUsers(old.UserWindows())
	if got := usersOf(other, 1); got != 0 {
		t.Errorf("revision 1 not in the table: %.1f users carried; want 0", got)
	}
}
