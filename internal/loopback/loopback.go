// Package loopback gives tests HTTP clients that connect from distinct
// loopback source addresses (Linux routes all of 127.0.0.0/8 to the
// loopback interface), so that a server sees distinct clients.
package loopback

import (
	"net"
	"net/http"
	"time"
)

// Addr returns the i-th client address (i from 0 to 65,000): 127.0.0.2,
// 127.0.0.3, … then 127.0.1.0 and on, never 127.0.0.1.
func Addr(i int) net.IP {
	n := i + 2
	return net.IPv4(127, 0, byte(n>>8), byte(n))
}

// Client returns an HTTP client whose connections come from ip, with
// keep-alive; CloseIdleConnections releases them.
func Client(ip net.IP) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 10 * time.Second}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, DisableCompression: true},
		Timeout:   30 * time.Second,
	}
}
