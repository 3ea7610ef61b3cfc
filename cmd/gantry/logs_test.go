package main

import (
	"bufio"
	"os"
	"os/exec"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// TestCLI_Logs prints the logs of every instance with a prefix each, and
// follows them with -f across instances while a deploy replaces them.
func TestCLI_Logs(t *testing.T) {
	env, _ := startServer(t)
	mustRun(t, env, "apply", "-f", sampleSpec(t, "web", 2, ""))
	mustRun(t, env, "deploy", "web", "--version", "v1", "--wait")
	out := mustRun(t, env, "logs", "web", "--tail", "5")
	started := regexp.MustCompile(`(?m)^\[(web-prod-1-\w+)\] gantry-sample v1 started`).FindAllStringSubmatch(out, -1)
	if len(started) != 2 || started[0][1] == started[1][1] {
		t.Fatalf("logs of two instances, prefixed:\n%s", out)
	}
	if out := mustRun(t, env, "logs", "web", started[0][1], "--tail", "0"); out != "" {
		t.Errorf("logs --tail 0 printed %q", out)
	}

	follow := exec.Command(bin, "logs", "web", "-f", "--tail", "0")
	follow.Env = append(os.Environ(), env...)
	stdout, _ := follow.StdoutPipe()
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	time.Sleep(time.Second) // let the streams open before the deploy stops v1
	mustRun(t, env, "deploy", "web", "--version", "v2", "--wait")
	stopped := map[string]bool{}
	timeout := time.After(30 * time.Second)
	for len(stopped) < 2 {
		select {
		case l := <-lines:
			if m := regexp.MustCompile(`^\[(web-prod-1-\w+)\] gantry-sample v1 stopped`).FindStringSubmatch(l); m != nil {
				stopped[m[1]] = true
			}
		case <-timeout:
			t.Fatalf("logs -f showed %d of 2 v1 instances stopping", len(stopped))
		}
	}
	follow.Process.Signal(syscall.SIGINT)
	err := follow.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInterrupted {
		t.Errorf("logs -f after Ctrl-C: %v, want exit %d", err, exitInterrupted)
	}
}
