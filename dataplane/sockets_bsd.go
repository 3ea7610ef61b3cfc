//go:build darwin || freebsd

package dataplane

import "golang.org/x/sys/unix"

// peerUID returns the user ID of the process at the other end of the
// Unix socket fd (LOCAL_PEERCRED).
func peerUID(fd int) (uint32, error) {
	cred, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return 0, err
	}
	return cred.Uid, nil
}

// acceptQueue returns 0: these systems do not report a listening socket's
// accept queue (Inheritance.Queued is 0 there).
func acceptQueue(int) int { return 0 }
