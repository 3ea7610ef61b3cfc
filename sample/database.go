package sample

import (
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"
)

// database stands for the service's database under the db-down knob: an
// address on which nothing listens, dialled for real on every check, so the
// failure is the one a real outage gives ("connect: connection refused").
//
// The port is held by a bound socket that never listens: the kernel
// refuses connections to it, and no other process can take it meanwhile.
type database struct {
	fd   int
	addr string
}

func openDownDatabase() (*database, error) {
	// Not inherited by the processes this one starts: close-on-exec set
	// under ForkLock (portable, where SOCK_CLOEXEC is Linux's).
	syscall.ForkLock.RLock()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("db-down: reserve a closed port: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("db-down: reserve a closed port: %w", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("db-down: reserve a closed port: %w", err)
	}
	port := sa.(*syscall.SockaddrInet4).Port
	return &database{fd: fd, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}, nil
}

// ping dials the database once.
func (d *database) ping() error {
	c, err := net.DialTimeout("tcp", d.addr, time.Second)
	if err != nil {
		if oe, ok := err.(*net.OpError); ok {
			oe.Source = nil // keep the message short and stable, like a driver's
		}
		return err
	}
	return c.Close()
}

func (d *database) close() { syscall.Close(d.fd) }
