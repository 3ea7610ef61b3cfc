package proxy

import (
	"syscall"
	"unsafe"
)

// peek is run by RawConn.Read on an idle connection: a non-blocking
// MSG_PEEK recv that returns EAGAIN when the connection is quiet (open), 0
// when the upstream closed it, and data when it sent something unsolicited.
func (uc *upstreamConn) peek(fd uintptr) bool {
	var b [1]byte
	_, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	uc.peekOpen = errno == syscall.EAGAIN
	return true
}
