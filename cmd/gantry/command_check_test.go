package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_ApplyChecksCommandOnServer applies specs whose local command is
// a path relative to the server's --base-dir from a client in another
// directory: the server resolves it against its own --base-dir, warns
// with file:line:column and the field path when it cannot run it, and
// deploys what it can. gantry validate checks offline against its own
// --base-dir.
func TestCLI_ApplyChecksCommandOnServer(t *testing.T) {
	base, client := t.TempDir(), t.TempDir()
	script := "#!/bin/sh\nexec " + bin + " \"$@\"\n"
	for _, dir := range []string{filepath.Join(base, "bin"), filepath.Join(client, "bin")} {
		os.MkdirAll(dir, 0o755)
	}
	os.WriteFile(filepath.Join(base, "bin", "run.sh"), []byte(script), 0o755)
	// Only the client has missing.sh: a check on the client would pass.
	os.WriteFile(filepath.Join(client, "bin", "missing.sh"), []byte(script), 0o755)
	env, _ := startServer(t, "--base-dir", base)

	specText, _ := os.ReadFile(sampleSpec(t, "web", 1, ""))
	write := func(command string) string {
		path := filepath.Join(client, "gantry.yaml")
		os.WriteFile(path, []byte(strings.Replace(string(specText), "command: "+bin, "command: "+command, 1)), 0o644)
		return path
	}

	write("./bin/run.sh")
	if _, stderr, code := runIn(t, client, env, "apply"); code != 0 || stderr != "" {
		t.Fatalf("apply of a command under the server's --base-dir: exit %d, stderr %q; want 0 and no warning", code, stderr)
	}
	if out, stderr, code := runIn(t, client, env, "deploy", "web", "--version", "v1", "--wait", "--timeout", "2m"); code != 0 {
		t.Fatalf("deploy of ./bin/run.sh under --base-dir: exit %d\n%s%s", code, out, stderr)
	}

	write("./bin/missing.sh")
	_, stderr, code := runIn(t, client, env, "apply")
	if code != 0 || !strings.Contains(stderr, "warning: gantry.yaml:7:14: spec.workload.command: \"./bin/missing.sh\" cannot be run") ||
		!strings.Contains(stderr, "--base-dir "+base) {
		t.Errorf("apply of a command the server cannot find: exit %d, stderr %q; want a warning at gantry.yaml:7:14 naming the server's --base-dir %s", code, stderr, base)
	}

	_, stderr, code = runIn(t, client, env, "validate", "--base-dir", base)
	if code != 0 || !strings.Contains(stderr, "gantry.yaml:7:14: spec.workload.command") {
		t.Errorf("validate --base-dir %s of ./bin/missing.sh: exit %d, stderr %q; want a warning at gantry.yaml:7:14", base, code, stderr)
	}
	if _, stderr, _ := runIn(t, client, env, "validate"); strings.Contains(stderr, "warning") {
		t.Errorf("validate from the directory that has ./bin/missing.sh warned: %q", stderr)
	}
}
