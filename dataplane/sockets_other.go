//go:build !linux && !darwin && !freebsd

package dataplane

import (
	"fmt"
	"runtime"
)

// peerUID fails: gantry cannot tell who connects to the control socket on
// this system, and refuses every connection rather than trust any.
func peerUID(int) (uint32, error) {
	return 0, fmt.Errorf("the data plane's control socket cannot check its peer's user on %s: run gantry proxy on Linux, macOS or FreeBSD", runtime.GOOS)
}

// acceptQueue returns 0: unknown on this system.
func acceptQueue(int) int { return 0 }
