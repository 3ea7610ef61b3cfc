package image

import (
	"fmt"
	"os"
	"os/exec"
)

// BuildBinary compiles gantry (./cmd/gantry of the module in the current
// directory or above) into out as a static linux binary for arch:
// CGO_ENABLED=0, trimmed paths, no symbol table.
func BuildBinary(out, arch string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "github.com/gantry-dev/gantry/cmd/gantry")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build gantry (CGO_ENABLED=0 GOOS=linux GOARCH=%s): %w\n%s", arch, err, b)
	}
	return nil
}
