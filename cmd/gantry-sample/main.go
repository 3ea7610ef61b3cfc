// Command gantry-sample is gantry's sample workload: an HTTP service whose
// failures (errors, latency, crashes, readiness, memory growth, CPU burn,
// a database outage) are chosen by knobs. See package sample.
package main

import (
	"fmt"
	"os"

	"github.com/gantry-dev/gantry/sample"
)

func main() {
	if err := sample.Main(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gantry-sample:", err)
		os.Exit(1)
	}
}
