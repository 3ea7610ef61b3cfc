package kuberouter

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// timeout bounds the API requests of one router call.
const timeout = 30 * time.Second

var errNotOpen = errors.New("environment is not open")

// dnsName joins parts into a DNS-1035 label (what a Service name must
// be): at most 63 characters, a longer one cut and ended with a hash of
// the whole so that it stays unique.
func dnsName(parts ...string) string {
	n := strings.Join(parts, "-")
	if n != "" && n[0] >= '0' && n[0] <= '9' {
		n = "s-" + n
	}
	if len(n) <= 63 {
		return n
	}
	h := fnv.New32a()
	h.Write([]byte(n))
	sum := fmt.Sprintf("%08x", h.Sum32())
	return n[:63-len(sum)-1] + "-" + sum
}
