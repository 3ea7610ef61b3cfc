package dataplane

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// peerUID returns the user ID of the process at the other end of the
// Unix socket fd (SO_PEERCRED).
func peerUID(fd int) (uint32, error) {
	cred, err := syscall.GetsockoptUcred(fd, syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	if err != nil {
		return 0, err
	}
	return cred.Uid, nil
}

// acceptQueue returns the number of connections waiting in the accept
// queue of the listening socket fd (TCP_INFO); 0 when unknown.
func acceptQueue(fd int) int {
	if ti, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
		return int(ti.Unacked) // a listening socket's accept queue length
	}
	return 0
}
