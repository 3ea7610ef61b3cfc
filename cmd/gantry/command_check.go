package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/gantry-dev/gantry/spec"
)

// commandWarnings checks that the workload command of every local
// environment of app resolves as the local backend would run it: a path
// relative to baseDir, or a name on PATH. Each warning names file:line.
// A command with placeholders ({{.Version}}) is checked only once rendered,
// at deploy.
func commandWarnings(file string, app *spec.App, baseDir string) []string {
	var out []string
	seen := map[string]bool{}
	for _, name := range app.EnvironmentNames() {
		e, _ := app.Environment(name)
		s, err := app.Resolve(name)
		if err != nil || e.BackendName() != spec.BackendLocal {
			continue
		}
		cmd := s.Workload.Command
		if cmd == "" || strings.Contains(cmd, "{{") || seen[cmd] {
			continue
		}
		seen[cmd] = true
		path := cmd
		if strings.ContainsRune(cmd, filepath.Separator) && !filepath.IsAbs(cmd) {
			if path, err = filepath.Abs(filepath.Join(baseDir, cmd)); err != nil {
				continue
			}
		}
		if _, err := exec.LookPath(path); err != nil {
			out = append(out, fmt.Sprintf("warning: %s:%d: spec.workload.command: %q cannot be run here (paths resolve against --base-dir %s, names against PATH): %v; deploys of it would fail at once",
				file, lineOf(file, "command:", cmd), cmd, baseDir, err))
		}
	}
	return out
}

// lineOf returns the first line of file holding both key and value, or 1.
func lineOf(file, key, value string) int {
	b, err := os.ReadFile(file)
	if err != nil {
		return 1
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, key) && strings.Contains(l, value) {
			return i + 1
		}
	}
	return 1
}
