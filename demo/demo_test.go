package demo

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/gantry-dev/gantry/rollout"
)

// TestRun runs the whole demo against a freshly built gantry binary on a
// terminal (a pty) and checks every step ended as the demo says it should,
// that its progress was redrawn in place and that no line is wider than
// Width. TestNarrator_Plain covers output that is not a terminal.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the demo takes about a minute")
	}
	bin := filepath.Join(t.TempDir(), "gantry")
	build := exec.Command("go", "build", "-o", bin, "github.com/gantry-dev/gantry/cmd/gantry")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build gantry: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	pty.Setsize(ptmx, &pty.Winsize{Rows: 50, Cols: Width})
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() { io.Copy(&out, ptmx); close(copied) }() // until the pty's other end closes
	res, err := Run(ctx, Options{Executable: bin, Out: tty})
	tty.Close()
	<-copied
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	checkWidth(t, strings.ReplaceAll(out.String(), "\r\n", "\n")) // the pty turns \n into \r\n
	if !strings.Contains(out.String(), "\r\x1b[2K[") {
		t.Errorf("the progress was never redrawn in place on a terminal:\n%q", out.String())
	}
	if len(res.Steps) != 1+len(demoSteps) {
		t.Fatalf("%d steps, want %d", len(res.Steps), 1+len(demoSteps))
	}
	rolledBack := 0
	for _, s := range res.Steps {
		if !s.OK() {
			t.Errorf("%s ended %s, want %s", s.Title, s.Rollout.Phase, s.Want)
		}
		if s.Rollout.Phase == rollout.RolledBack {
			rolledBack++
			if s.Rollout.Reason == "" || s.Rollout.Message == "" {
				t.Errorf("%s rolled back without a reason", s.Title)
			}
		}
	}
	if rolledBack != 2 {
		t.Errorf("%d rollbacks, want 2 (never-ready and the bad canary)", rolledBack)
	}
	if !strings.Contains(out.String(), "Every rollout ended as it should") {
		t.Errorf("summary does not say the demo succeeded:\n%s", out.String())
	}
	// The demo's instances are gone: nothing runs the binary any more.
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.HasPrefix(cmdline, []byte(bin+"\x00")) {
			t.Errorf("process %s still runs the demo's binary: %q", e.Name(), cmdline)
		}
	}
}
