package local

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// commandPath is where the local backend looks for a workload's command:
// a path with a separator is taken relative to baseDir (unless absolute),
// a plain name is looked up on PATH when started.
func commandPath(baseDir, command string) string {
	if strings.ContainsRune(command, filepath.Separator) && !filepath.IsAbs(command) {
		p := filepath.Join(baseDir, command)
		if !strings.ContainsRune(p, filepath.Separator) {
			// Join(".", "./app") is "app", which exec would look up on PATH.
			p = "." + string(filepath.Separator) + p
		}
		return p
	}
	return command
}

// CheckCommand reports whether a workload command (without placeholders)
// can be run by a local backend whose BaseDir is baseDir: an executable
// file at its path, or a name on PATH. The error says where it looked.
func CheckCommand(baseDir, command string) error {
	if _, err := exec.LookPath(commandPath(baseDir, command)); err != nil {
		return fmt.Errorf("%q cannot be run (a path resolves against --base-dir %s, a name against PATH): %w; deploys of it would fail at once",
			command, baseDir, err)
	}
	return nil
}
