package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_StartFailures deploys workloads that can never start (a command
// not on PATH, a file that is not executable): each rollout ends at once
// with the reason, shown by deploy --wait, status and history, and the
// server log says it once instead of on every retry.
func TestCLI_StartFailures(t *testing.T) {
	env, data := startServer(t)
	good := sampleSpec(t, "web", 1, "")
	mustRun(t, env, "apply", "-f", good)
	mustRun(t, env, "deploy", "web", "--version", "v1", "--wait")

	notExec := filepath.Join(t.TempDir(), "server.sh")
	os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644)
	goodText, _ := os.ReadFile(good)
	for i, tt := range []struct{ command, says string }{
		{"nosuchcmd-gantry", `exec: "nosuchcmd-gantry": executable file not found in $PATH`},
		{notExec, "permission denied"},
	} {
		bad := filepath.Join(t.TempDir(), "gantry.yaml")
		os.WriteFile(bad, []byte(strings.Replace(string(goodText), "command: "+bin, "command: "+tt.command, 1)), 0o644)
		_, stderr, code := run(t, env, "validate", "-f", bad)
		if code != 0 || !strings.Contains(stderr, "warning") || !strings.Contains(stderr, tt.says) {
			t.Errorf("validate of command %s: exit %d, stderr %q; want a warning saying %q", tt.command, code, stderr, tt.says)
		}
		mustRun(t, env, "apply", "-f", bad)
		version := []string{"v2", "v3"}[i]
		out, stderr, code := run(t, env, "deploy", "web", "--version", version, "--wait", "--timeout", "60s")
		if code != exitRolledBack || !strings.Contains(out, "InstanceStartFailed") || !strings.Contains(out, tt.says) {
			t.Errorf("deploy --wait of command %s: exit %d\n%s%s\nwant exit %d with InstanceStartFailed: %s", tt.command, code, out, stderr, exitRolledBack, tt.says)
		}
		if st := mustRun(t, env, "rollout", "status", "web"); !strings.Contains(st, "InstanceStartFailed") || !strings.Contains(st, tt.says) || !strings.Contains(st, "v1") {
			t.Errorf("status after the failed start:\n%s", st)
		}
	}
	log, _ := os.ReadFile(filepath.Join(data, "server.log"))
	// Once by the engine when it finds it cannot start, once in the line
	// that says how the rollout ended; never once per attempt.
	lines := 0
	for _, l := range strings.Split(string(log), "\n") {
		if strings.Contains(l, "nosuchcmd-gantry") {
			lines++
		}
	}
	if lines > 2 {
		t.Errorf("%d lines of the server log name the missing command; want at most 2 (cannot start, rollout ended):\n%s", lines, log)
	}
}
