//go:build !linux

// Command evproxy is a Linux-only prototype (epoll); see main.go.
package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	fmt.Fprintf(os.Stderr, "evproxy: a prototype built on Linux's epoll; it does not run on %s\n", runtime.GOOS)
	os.Exit(2)
}
