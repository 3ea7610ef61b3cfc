package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startServer runs `gantry server` on a free port in a temporary data
// directory, stops it when the test ends, and returns the environment the
// CLI needs to reach it (GANTRY_SERVER, GANTRY_TOKEN) and the data directory.
func startServer(t *testing.T, extra ...string) (env []string, data string) {
	t.Helper()
	data = t.TempDir()
	env, _ = launchServer(t, data, "server.log", append([]string{"--stop-instances-on-exit"}, extra...)...)
	return env, data
}

// launchServer runs `gantry server --data data` on a free port with its
// log (stderr) in data/logName, and returns the CLI's environment and a
// stop function (SIGTERM, then wait), also called when the test ends.
func launchServer(t *testing.T, data, logName string, extra ...string) (env []string, stop func()) {
	t.Helper()
	args := append([]string{"server", "--data", data, "--listen", "127.0.0.1:0"}, extra...)
	srv := exec.Command(bin, args...)
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(data, logName))
	if err != nil {
		t.Fatal(err)
	}
	srv.Stderr = logf
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			srv.Process.Signal(syscall.SIGTERM)
			done := make(chan error, 1)
			go func() { done <- srv.Wait() }()
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				srv.Process.Kill()
				t.Errorf("server did not stop within 60s of SIGTERM")
			}
			logf.Close()
			if t.Failed() {
				b, _ := os.ReadFile(logf.Name())
				t.Logf("server log %s:\n%s", logName, b)
			}
		})
	}
	t.Cleanup(stop)
	sc := bufio.NewScanner(stdout)
	var url string
	for url == "" && sc.Scan() {
		if m := apiURL.FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatal("server printed no API address")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	token, err := os.ReadFile(filepath.Join(data, "admin.token")) // bootstrapped by the first server
	if err != nil {
		t.Fatal(err)
	}
	return []string{"GANTRY_SERVER=" + url, "GANTRY_TOKEN=" + strings.TrimSpace(string(token)), "GANTRY_CONFIG="}, stop
}

// sampleSpec writes a gantry.yaml for app running the sample workload of
// the test binary, with extra lines appended under spec:, and returns its path.
func sampleSpec(t *testing.T, app string, replicas int, specExtra string, envs ...string) string {
	t.Helper()
	if len(envs) == 0 {
		envs = []string{"prod"}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: gantry.dev/v1
kind: App
metadata: {name: %s}
spec:
  replicas: %d
  workload:
    command: %s
    args: [sample, --port, "{{.Port}}", --version, "{{.Version}}"]
  readinessProbe: {httpGet: {path: /ready}, periodSeconds: 1}
%senvironments:
`, app, replicas, bin, specExtra)
	for _, e := range envs {
		fmt.Fprintf(&b, "  - name: %s\n", e)
	}
	path := filepath.Join(t.TempDir(), "gantry.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// mustRun runs gantry and fails the test unless it exits 0.
func mustRun(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, stderr, code := run(t, env, args...)
	if code != 0 {
		t.Fatalf("gantry %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, stderr)
	}
	return out
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
