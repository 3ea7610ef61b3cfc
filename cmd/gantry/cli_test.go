package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/internal/testbin"
)

// bin is the gantry binary built from this package for the CLI tests.
var bin string

func TestMain(m *testing.M) {
	os.Exit(testbin.Main(m, "github.com/gantry-dev/gantry/cmd/gantry", &bin))
}

// run runs gantry with args and returns its stdout, stderr and exit code.
func run(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("run gantry %.200v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func TestCLI_Validate(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "gantry.yaml")
	os.WriteFile(bad, []byte(`apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
  replicas: three
  strategy:
    rollingUpdate: {maxSurge: 0, maxUnavailable: 0}
environments:
  - name: prod
`), 0o644)
	_, stderr, code := run(t, nil, "validate", "-f", bad)
	if code != exitError {
		t.Fatalf("validate of a bad spec exited %d, want %d; stderr:\n%s", code, exitError, stderr)
	}
	for _, want := range []string{bad + ":5:3: spec.replicas", "spec.workload.command"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	out, stderr, code := run(t, nil, "validate", "-f", "../../examples/gemini-api/gantry.yaml", "-o", "json")
	if code != 0 {
		t.Fatalf("validate of the example exited %d: %s", code, stderr)
	}
	var res struct {
		Valid bool `json:"valid"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || !res.Valid {
		t.Fatalf("validate -o json = %s (%v), want valid", out, err)
	}
}

var apiURL = regexp.MustCompile(`API on (http://\S+),`)

// TestCLI_DeployWaitExitCodes drives a real `gantry server` with the CLI:
// apply, deploy --wait of a good version (exit 0) and of one that never
// becomes ready (exit 2, rolled back), history, status and events.
func TestCLI_DeployWaitExitCodes(t *testing.T) {
	env, _ := startServer(t)
	spec := filepath.Join(t.TempDir(), "gantry.yaml")
	os.WriteFile(spec, []byte(fmt.Sprintf(`apiVersion: gantry.dev/v1
kind: App
metadata: {name: web}
spec:
  replicas: 2
  workload:
    command: %s
    args: [sample, --port, "{{.Port}}", --version, "{{.Version}}"]
  readinessProbe: {httpGet: {path: /ready}, periodSeconds: 1}
  progressDeadlineSeconds: 5
environments:
  - name: prod
`, bin)), 0o644)

	if out, stderr, code := run(t, env, "apply", "-f", spec); code != 0 || !strings.Contains(out, "app web created") {
		t.Fatalf("apply: exit %d, out %q, err %q", code, out, stderr)
	}
	if out, stderr, code := run(t, env, "deploy", "web", "--version", "v1", "--wait"); code != 0 {
		t.Fatalf("deploy v1 --wait: exit %d\n%s\n%s", code, out, stderr)
	}
	out, stderr, code := run(t, env, "deploy", "web", "--version", "v2+never-ready", "--wait")
	if code != exitRolledBack {
		t.Fatalf("deploy of a never-ready version: exit %d, want %d\n%s\n%s", code, exitRolledBack, out, stderr)
	}
	if !strings.Contains(out, "ProgressDeadlineExceeded") {
		t.Errorf("deploy --wait output does not say why it rolled back:\n%s", out)
	}

	out, _, code = run(t, env, "rollout", "history", "web", "-o", "json")
	var hist []api.HistoryEntry
	if code != 0 || json.Unmarshal([]byte(out), &hist) != nil || len(hist) != 2 {
		t.Fatalf("history -o json: exit %d, %d entries: %s", code, len(hist), out)
	}
	if hist[0].Reason != "ProgressDeadlineExceeded" || hist[0].ToVersion != "v2+never-ready" || hist[1].ToVersion != "v1" {
		t.Errorf("history = %+v", hist)
	}
	out, _, code = run(t, env, "rollout", "status", "web")
	if code != 0 || !strings.Contains(out, "RolledBack") || !strings.Contains(out, "v1") {
		t.Errorf("status: exit %d:\n%s", code, out)
	}
	out, _, code = run(t, env, "events", "web")
	if code != 0 || !strings.Contains(out, "InstanceStarted") || !strings.Contains(out, "RolloutSucceeded") {
		t.Errorf("events: exit %d:\n%s", code, out)
	}
	_, stderr, code = run(t, env, "deploy", "web", "--env", "staging", "--version", "v3")
	if code != exitError || !strings.Contains(stderr, `no environment "staging"`) {
		t.Errorf("deploy to an unknown environment: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = run(t, env, "rollout", "undo", "web", "--to-revision", "9")
	if code != exitError || !strings.Contains(stderr, "no revision 9") {
		t.Errorf("undo to an unknown revision: exit %d, stderr %q", code, stderr)
	}
}
