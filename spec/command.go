package spec

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// CheckCommand reports whether the workload command of app can be run
// where check looks for it (the local backend resolves a path against the
// server's --base-dir and a name on its PATH; see local.CheckCommand). It
// returns a problem at spec.workload.command, with its position in src
// (the document app was parsed from, named filename), when an environment
// runs on the local backend and check refuses the command; nil otherwise.
// A command with placeholders ({{.Version}}) is checked only once
// rendered, at deploy.
func CheckCommand(filename string, src []byte, app *App, check func(command string) error) *FieldError {
	cmd := app.Spec.Workload.Command
	if cmd == "" || strings.Contains(cmd, "{{") || !app.runsLocally() {
		return nil
	}
	err := check(cmd)
	if err == nil {
		return nil
	}
	const path = "spec.workload.command"
	fe := &FieldError{File: filename, Path: path, Message: err.Error()}
	fe.Line, fe.Column = fieldPosition(filename, src, path)
	return fe
}

// runsLocally reports whether an environment of a uses the local backend.
func (a *App) runsLocally() bool {
	for _, name := range a.EnvironmentNames() {
		if e, ok := a.Environment(name); ok && e.BackendName() == BackendLocal {
			return true
		}
	}
	return false
}

// fieldPosition returns the line and column of the value at a dotted field
// path (mapping keys only) in a document, or 0, 0 when it is not there.
func fieldPosition(filename string, src []byte, path string) (line, col int) {
	n, errs := readDocument(filename, src)
	if errs != nil {
		return 0, 0
	}
next:
	for _, key := range strings.Split(path, ".") {
		if n.Kind != yaml.MappingNode {
			return 0, 0
		}
		for _, p := range pairs(n) {
			if p.key.Value == key {
				n = p.value
				continue next
			}
		}
		return 0, 0
	}
	return n.Line, n.Column
}
