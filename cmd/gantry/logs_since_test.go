package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCLI_LogsSince prints what instances wrote since a time or a
// duration ago, with the real binary against a real server: a v1
// instance's log after a time taken between its start and its stop holds
// the stop but not the start; --since 1h prints every line of every
// instance, each prefixed; a bad --since is refused.
func TestCLI_LogsSince(t *testing.T) {
	env, data := startServer(t)
	mustRun(t, env, "apply", "-f", sampleSpec(t, "web", 2, ""))
	mustRun(t, env, "deploy", "web", "--version", "v1", "--wait")
	out := mustRun(t, env, "logs", "web")
	m := regexp.MustCompile(`(?m)^\[(web-prod-1-\w+)\] gantry-sample v1 started`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no v1 instance in logs:\n%s", out)
	}
	v1 := m[1]
	waitIndexed(t, data, v1)
	between := time.Now()
	mustRun(t, env, "deploy", "web", "--version", "v2", "--wait")

	out = mustRun(t, env, "logs", "web", v1, "--since", between.UTC().Format(time.RFC3339Nano))
	if !strings.Contains(out, "["+v1+"] gantry-sample v1 stopped") || strings.Contains(out, "started") {
		t.Errorf("logs %s --since the time between its start and stop:\n%s\nwant its stop and not its start", v1, out)
	}
	out = mustRun(t, env, "logs", "web", "--since", "1h")
	if started := regexp.MustCompile(`(?m)^\[web-prod-2-\w+\] gantry-sample v2 started`).FindAllString(out, -1); len(started) != 2 {
		t.Errorf("logs --since 1h: %d v2 instances started, want 2, each prefixed:\n%s", len(started), out)
	}
	_, stderr, code := run(t, env, "logs", "web", "--since", "yesterday")
	if code != exitError || !strings.Contains(stderr, `--since "yesterday": give a duration such as 10m`) {
		t.Errorf("logs --since yesterday: exit %d, stderr %q; want exit %d naming the flag and its forms", code, stderr, exitError)
	}
}

// waitIndexed waits until the server indexed instance id's log at its
// current size, so a time taken after it falls after all it wrote so far.
func waitIndexed(t *testing.T, data, id string) {
	t.Helper()
	var log string
	filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == id+".log" {
			log = p
		}
		return nil
	})
	if log == "" {
		t.Fatalf("no log file of %s under %s", id, data)
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		fi, err := os.Stat(log)
		idx, _ := os.ReadFile(log + ".idx")
		lines := strings.Split(strings.TrimSpace(string(idx)), "\n")
		if f := strings.Fields(lines[len(lines)-1]); err == nil && len(f) == 2 && f[1] == strconv.FormatInt(fi.Size(), 10) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the server never indexed %s at its size", log)
}
