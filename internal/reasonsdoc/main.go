// Command reasonsdoc writes docs/reasons.md from rollout.Reasons; run it
// with `go generate ./rollout`.
package main

import (
	"fmt"
	"os"

	"github.com/gantry-dev/gantry/rollout"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: reasonsdoc FILE (such as docs/reasons.md)")
		os.Exit(2)
	}
	if err := os.WriteFile(os.Args[1], []byte(rollout.ReasonsMarkdown()), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "reasonsdoc: %v\n", err)
		os.Exit(1)
	}
}
