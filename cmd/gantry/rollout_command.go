package main

import (
	"fmt"

	"github.com/gantry-dev/gantry/rollout"
)

// commandLine says what a rollout command did, in the command's own words:
// "rollout 4 resumed: Progressing (…)".
func commandLine(command string, ro rollout.Rollout) string {
	verb := map[string]string{"promote": "promoted", "abort": "aborted", "pause": "paused", "resume": "resumed", "retry": "retried"}[command]
	line := fmt.Sprintf("rollout %d %s: now %s", ro.ID, verb, ro.Phase)
	if command == "resume" {
		// At a pause step the server resumes by promoting past the pause;
		// its message says "promoted", which is not what the user asked.
		return line + fmt.Sprintf(", at step %d", ro.Step+1)
	}
	if ro.Message != "" {
		line += fmt.Sprintf(" (%s)", ro.Message)
	}
	return line
}
