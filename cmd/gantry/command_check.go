package main

import (
	"os"

	"github.com/gantry-dev/gantry/backend/local"
	"github.com/gantry-dev/gantry/spec"
)

// commandWarnings checks offline, for gantry validate, that the workload
// command of a local app resolves as a server with --base-dir baseDir on
// this machine would run it. gantry apply leaves the check to the server,
// which knows its own --base-dir and PATH.
func commandWarnings(file string, app *spec.App, baseDir string) []string {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	fe := spec.CheckCommand(file, src, app, func(cmd string) error { return local.CheckCommand(baseDir, cmd) })
	if fe == nil {
		return nil
	}
	return []string{"warning: " + fe.Error()}
}
