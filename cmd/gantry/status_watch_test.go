package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/creack/pty"
)

// TestCLI_StatusWatch follows one canary rollout with two watchers: one on
// a terminal (a pty), which redraws the tree in place, and one on a pipe,
// which prints plain lines. Both end with the rollout, exit 0.
func TestCLI_StatusWatch(t *testing.T) {
	env, _ := startServer(t)
	mustRun(t, env, "apply", "-f", sampleSpec(t, "web", 2,
		"  strategy:\n    type: Canary\n    canary: {steps: [{setWeight: 50}, {pause: {}}, {setWeight: 100}]}\n"))
	mustRun(t, env, "deploy", "web", "--version", "v1", "--wait")
	mustRun(t, env, "deploy", "web", "--version", "v2")
	waitFor(t, env, "prod", "Paused")

	args := []string{"rollout", "status", "web", "--watch", "--timeout", "5m"}
	tty := exec.Command(bin, args...)
	tty.Env = append(os.Environ(), append(env, "TERM=xterm")...)
	ptmx, err := pty.StartWithSize(tty, &pty.Winsize{Rows: 50, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	ttyOut := newWatchOutput(ptmx)

	plain := exec.Command(bin, args...)
	plain.Env = append(os.Environ(), env...)
	stdout, _ := plain.StdoutPipe()
	if err := plain.Start(); err != nil {
		t.Fatal(err)
	}
	plainOut := newWatchOutput(stdout)

	// Both have shown the pause before it is resumed: the terminal's next
	// frame is then a redraw.
	ttyOut.waitFor(t, "॥ 2. pause until promoted")
	plainOut.waitFor(t, "Paused")
	mustRun(t, env, "rollout", "resume", "web")
	if err := tty.Wait(); err != nil {
		t.Errorf("status --watch on a terminal: %v, want exit 0 when the rollout succeeds", err)
	}
	if err := plain.Wait(); err != nil {
		t.Errorf("status --watch on a pipe: %v, want exit 0 when the rollout succeeds", err)
	}

	got := ttyOut.String()
	up := strings.LastIndex(got, "\x1b[") // the last frame follows the last cursor-up
	if !strings.Contains(got, "A\x1b[2K") || up < 0 {
		t.Fatalf("terminal output never moved the cursor up to redraw:\n%q", got)
	}
	frames := strings.Split(got, "\x1b[2KName:")
	last := frames[len(frames)-1]
	for _, want := range []string{"✔ Succeeded", "Steps:", "✔ 1. setWeight 50%", "✔ 3. setWeight 100%",
		"# revision:2 v2", "[██████████] 100%", "web-prod-2-"} {
		if !strings.Contains(last, want) {
			t.Errorf("the last frame lacks %q:\n%s", want, last)
		}
	}
	if strings.Contains(last, "# revision:1 ") {
		t.Errorf("the last frame shows revision 1, which runs nothing and takes no traffic:\n%s", last)
	}
	paused := frames[len(frames)-2]
	for _, want := range []string{"॥ Paused", "Step:", "▶", "# revision:1 v1 stable", "# revision:2 v2 new"} {
		if !strings.Contains(got, want) {
			t.Errorf("no frame shows %q; the paused one:\n%s", want, paused)
		}
	}

	lines := plainOut.String()
	if strings.Contains(lines, "\x1b[") {
		t.Errorf("status --watch on a pipe wrote terminal escapes:\n%q", lines)
	}
	if !regexpMatch(`(?m)^\d\d:\d\d:\d\d  rollout 2 Paused .*rev 2 v2 50%`, lines) ||
		!regexpMatch(`(?m)^\d\d:\d\d:\d\d  rollout 2 Succeeded .*rev 2 v2 100%`, lines) {
		t.Errorf("plain lines of status --watch lack the pause or the end:\n%s", lines)
	}
}

// watchOutput collects what a watcher writes and lets a test wait for text.
type watchOutput struct {
	mu   sync.Mutex
	cond *sync.Cond
	buf  bytes.Buffer
	done bool
}

func newWatchOutput(r io.Reader) *watchOutput {
	o := &watchOutput{}
	o.cond = sync.NewCond(&o.mu)
	go func() {
		br := bufio.NewReader(r)
		b := make([]byte, 4096)
		for {
			n, err := br.Read(b)
			o.mu.Lock()
			o.buf.Write(b[:n])
			o.done = err != nil
			o.cond.Broadcast()
			o.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return o
}

// waitFor returns once s was written, or fails when the output ended without.
func (o *watchOutput) waitFor(t *testing.T, s string) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	for !strings.Contains(o.buf.String(), s) {
		if o.done {
			t.Fatalf("output ended without %q:\n%s", s, o.buf.String())
		}
		o.cond.Wait()
	}
}

func (o *watchOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}
