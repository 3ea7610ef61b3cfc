package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runIn runs gantry in dir; see run.
func runIn(t *testing.T, dir string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run gantry %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// TestCLI_FindAndSteer drives the commands that find and steer apps
// against a real server: apps and rollout list, apply without -f,
// apply --dry-run and diff, events of an unknown rollout, resume, the
// four-eyes note in status, the audit of apply and of --reason, --timeout
// of status --watch, and unknown subcommands.
func TestCLI_FindAndSteer(t *testing.T) {
	env, _ := startServer(t)
	dir := t.TempDir()
	// The second pause keeps the staging rollout in progress after resume,
	// for the abort that follows (without it the rollout may already have
	// succeeded).
	canary := "  strategy:\n    type: Canary\n    canary: {steps: [{pause: {}}, {setWeight: 50}, {pause: {}}, {setWeight: 100}]}\n"
	specText, _ := os.ReadFile(sampleSpec(t, "web", 1, canary, "staging", "production"))
	os.WriteFile(filepath.Join(dir, "gantry.yaml"), specText, 0o644)

	if out, stderr, code := runIn(t, dir, env, "apply", "--dry-run"); code != 0 || !strings.Contains(out, "app web would be created") ||
		!strings.Contains(out, `+ spec.replicas: 1`) || !strings.Contains(out, "nothing was applied") {
		t.Errorf("apply --dry-run of a new app: exit %d\n%s%s", code, out, stderr)
	}
	if out, stderr, code := runIn(t, dir, env, "apply"); code != 0 || !strings.Contains(out, "app web created") {
		t.Fatalf("apply without -f (gantry.yaml): exit %d\n%s%s", code, out, stderr)
	}
	changed := strings.Replace(string(specText), "replicas: 1", "replicas: 2", 1)
	changed = strings.Replace(changed, "  - name: production\n", "  - name: production\n    replicas: 3\n", 1)
	os.WriteFile(filepath.Join(dir, "gantry.yaml"), []byte(changed), 0o644)
	out, _, code := runIn(t, dir, env, "diff")
	if code != 0 || !strings.Contains(out, "~ spec.replicas: 1 → 2") || !strings.Contains(out, "+ environments[production].replicas: 3") {
		t.Errorf("diff, field by field: exit %d\n%s", code, out)
	}
	if out, _, _ := runIn(t, dir, env, "apply", "--dry-run"); !strings.Contains(out, "~ spec.replicas: 1 → 2") {
		t.Errorf("apply --dry-run of a change:\n%s", out)
	}
	if out := mustRun(t, env, "apps"); !strings.Contains(out, "web  staging") && !strings.Contains(out, "NeverDeployed") {
		t.Errorf("apps before any deploy:\n%s", out)
	}

	// A canary that pauses at once: resume says it resumed; production
	// waits for a second approver.
	mustRun(t, env, "deploy", "web", "--env", "staging", "--version", "v1", "--wait", "--timeout", "2m")
	mustRun(t, env, "deploy", "web", "--env", "staging", "--version", "v2")
	waitFor(t, env, "staging", "Paused")
	out = mustRun(t, env, "rollout", "list")
	if !regexpMatch(`web\s+staging\s+Paused\s+1 \(v1\)\s+2 \(v2\)\s+1:100%`, out) || !strings.Contains(out, "production") {
		t.Errorf("rollout list:\n%s", out)
	}
	if out, stderr, code := run(t, env, "rollout", "status", "web", "--env", "staging", "--watch", "--timeout", "3s"); code != exitError ||
		!strings.Contains(stderr, "after --timeout 3s") || !strings.Contains(out, "Paused") {
		t.Errorf("status --watch --timeout 3s of a paused rollout: exit %d\n%s%s", code, out, stderr)
	}
	out = mustRun(t, env, "rollout", "resume", "web", "--env", "staging", "--reason", "checked the dashboards")
	if !strings.Contains(out, "resumed") || strings.Contains(out, "promoted") {
		t.Errorf("rollout resume at a pause: %s", out)
	}
	mustRun(t, env, "rollout", "abort", "web", "--env", "staging")
	out = mustRun(t, env, "audit", "list", "--action", "resume", "-o", "json")
	if !strings.Contains(out, "reason: checked the dashboards") {
		t.Errorf("the audit record of resume lacks its --reason:\n%s", out)
	}
	var recs []struct{ App, Env string }
	json.Unmarshal([]byte(mustRun(t, env, "audit", "list", "--action", "apply", "-o", "json")), &recs)
	if len(recs) == 0 || recs[0].App != "web" || recs[0].Env != "staging,production" {
		t.Errorf("audit records of apply = %+v, want app web in staging,production", recs)
	}

	mustRun(t, env, "deploy", "web", "--env", "production", "--version", "v1", "--wait", "--timeout", "2m")
	mustRun(t, env, "deploy", "web", "--env", "production", "--version", "v2")
	waitFor(t, env, "production", "Paused")
	if out := mustRun(t, env, "rollout", "status", "web", "--env", "production"); !strings.Contains(out, "waiting for a second approver") {
		t.Errorf("status of a paused production rollout does not say it waits for a second approver:\n%s", out)
	}

	if _, stderr, code := run(t, env, "events", "web", "--env", "staging", "--rollout", "999"); code != exitError || !strings.Contains(stderr, "no rollout 999") {
		t.Errorf("events --rollout 999: exit %d, %s", code, stderr)
	}
	for _, args := range [][]string{{"rollout", "lst", "--env", "x"}, {"token", "revok"}, {"nosuch"}} {
		_, stderr, code := run(t, env, args...)
		if code != exitError || !strings.Contains(stderr, "unknown command") {
			t.Errorf("gantry %s: exit %d, %s; want unknown command", strings.Join(args, " "), code, stderr)
		}
	}
}

// waitFor polls status until the environment's rollout is in phase.
func waitFor(t *testing.T, env []string, e, phase string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		out, _, _ := run(t, env, "rollout", "status", "web", "--env", e, "-o", "json")
		if strings.Contains(out, `"phase": "`+phase+`"`) {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("web in %s never reached %s", e, phase)
}

// TestCLI_InterruptDeployWait presses Ctrl-C during deploy --wait: gantry
// says the rollout goes on in the server and how to follow or stop it.
func TestCLI_InterruptDeployWait(t *testing.T) {
	env, _ := startServer(t)
	mustRun(t, env, "apply", "-f", sampleSpec(t, "web", 1, "  strategy:\n    type: Canary\n    canary: {steps: [{pause: {}}]}\n"))
	mustRun(t, env, "deploy", "web", "--version", "v1", "--wait")
	cmd := exec.Command(bin, "deploy", "web", "--version", "v2", "--wait")
	cmd.Env = append(os.Environ(), env...)
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && !strings.Contains(sc.Text(), "Paused") {
	}
	cmd.Process.Signal(syscall.SIGINT)
	go func() {
		for sc.Scan() {
		}
	}()
	err := cmd.Wait()
	ee, _ := err.(*exec.ExitError)
	if ee == nil || ee.ExitCode() != exitInterrupted {
		t.Fatalf("deploy --wait after Ctrl-C: %v, want exit %d; stderr %s", err, exitInterrupted, stderr.String())
	}
	for _, want := range []string{"interrupted: rollout 2 goes on in the server", "gantry rollout status web --env prod --watch", "gantry rollout abort web --env prod"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

// TestCLI_ConfigAndVersion checks the config file's typo hints and
// gantry version of client and server.
func TestCLI_ConfigAndVersion(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte("sever: http://127.0.0.1:1\n"), 0o600)
	_, stderr, code := run(t, []string{"GANTRY_CONFIG=" + cfg}, "apps")
	if code != exitError || !strings.Contains(stderr, cfg+`:1: unknown key "sever"; did you mean "server"?`) || strings.Contains(stderr, "main.") {
		t.Errorf("config typo: exit %d, %s", code, stderr)
	}

	stamped := filepath.Join(t.TempDir(), "gantry")
	build := exec.Command("go", "build", "-o", stamped, "-ldflags", "-X main.version=v9.8.7 -X main.commit=0123456789abcdef -X main.date=2026-11-28T12:00:00Z", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build with version stamps: %v\n%s", err, out)
	}
	env, _ := startServer(t)
	out, stderr, code := runWith(t, stamped, env, "version")
	if code != 0 || !strings.Contains(out, "client: gantry v9.8.7 (commit 0123456789ab, built 2026-11-28T12:00:00Z)") || !strings.Contains(out, "server: gantry ") {
		t.Errorf("version: exit %d\n%s%s", code, out, stderr)
	}
	if _, _, code := runWith(t, stamped, []string{"GANTRY_SERVER=http://127.0.0.1:1"}, "version", "--client"); code != 0 {
		t.Errorf("version --client without a server: exit %d", code)
	}
}

func runWith(t *testing.T, binary string, env []string, args ...string) (string, string, int) {
	t.Helper()
	saved := bin
	bin = binary
	defer func() { bin = saved }()
	return run(t, env, args...)
}

// TestCLI_Completion asks the binary for completions as a shell would:
// apps, environments and token names come from the server.
func TestCLI_Completion(t *testing.T) {
	env, _ := startServer(t)
	mustRun(t, env, "apply", "-f", sampleSpec(t, "web", 1, "", "staging", "production"))
	if out := mustRun(t, env, "__complete", "deploy", ""); !strings.Contains(out, "web\n") {
		t.Errorf("completion of deploy APP:\n%s", out)
	}
	if out := mustRun(t, env, "__complete", "rollout", "status", "web", "--env", ""); !strings.Contains(out, "staging\n") || !strings.Contains(out, "production\n") {
		t.Errorf("completion of --env:\n%s", out)
	}
	if out := mustRun(t, env, "__complete", "token", "revoke", ""); !strings.Contains(out, "admin\t") {
		t.Errorf("completion of token revoke:\n%s", out)
	}
}

// TestCLI_SampleHelp checks gantry sample --help reads like the rest of the CLI.
func TestCLI_SampleHelp(t *testing.T) {
	out, stderr, code := run(t, nil, "sample", "--help")
	all := out + stderr
	if code != 0 || !strings.Contains(all, "Usage:\n  gantry sample --port PORT") || !strings.Contains(all, "      --errors ") || strings.Contains(all, "Usage of gantry-sample") {
		t.Errorf("sample --help: exit %d\n%s", code, all)
	}
}
