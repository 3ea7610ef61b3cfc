// Package testbin builds gantry's binaries for tests that run them as real
// processes (instances, servers, the CLI).
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Main builds pkg (an import path such as
// "github.com/gantry-dev/gantry/cmd/gantry") into a temporary directory,
// stores the binary's path in *path, runs the tests and removes the
// directory. Call it from TestMain: os.Exit(testbin.Main(m, pkg, &bin)).
func Main(m *testing.M, pkg string, path *string) int {
	dir, err := os.MkdirTemp("", "gantry-testbin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	*path = filepath.Join(dir, filepath.Base(pkg))
	build := exec.Command("go", "build", "-o", *path, pkg)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "build %s: %v\n", pkg, err)
		return 1
	}
	return m.Run()
}
