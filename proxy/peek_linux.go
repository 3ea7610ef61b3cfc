package proxy

import (
	"syscall"
	"unsafe"
)

// peekState runs a non-blocking MSG_PEEK recv on fd, which consumes nothing.
func peekState(fd uintptr) peerState {
	var b [1]byte
	n, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	switch {
	case errno == syscall.EAGAIN || errno == syscall.EINTR:
		return peerQuiet
	case errno != 0 || n == 0:
		return peerClosed
	}
	return peerSent
}
