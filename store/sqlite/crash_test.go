package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/store/sqlite"
)

// crashEnv, when set to a database path, makes the test binary a writer
// that TestStore_survivesKill kills.
const crashEnv = "GANTRY_SQLITE_CRASH_WRITER"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashEnv); path != "" {
		if err := crashWriter(path); err != nil {
			fmt.Fprintln(os.Stderr, "crash writer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashWriter writes rollouts, updates and events from a few goroutines
// until it is killed, printing each write to stdout once it is committed:
// "rollout ID", "update ID GENERATION", "event ID".
func crashWriter(path string) error {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
	}
	errs := make(chan error)
	for w := range 4 {
		go func() {
			for i := 0; ; i++ {
				r, err := s.CreateRollout(ctx, rollout.Rollout{
					App: "payments", Env: fmt.Sprintf("env%d", w), Phase: rollout.Progressing,
					Message: strings.Repeat("x", i%500), CreatedAt: time.Now(),
				})
				if err != nil {
					errs <- err
					return
				}
				report("rollout %d", r.ID)
				for step := range 3 {
					r.Step = step
					if r, err = s.UpdateRollout(ctx, r); err != nil {
						errs <- err
						return
					}
					report("update %d %d", r.ID, r.Generation)
					e, err := s.AppendEvent(ctx, rollout.Event{
						Time: time.Now(), App: r.App, Env: r.Env, RolloutID: r.ID,
						Type: rollout.Normal, Reason: "StepStarted", Message: strings.Repeat("y", i%300),
					})
					if err != nil {
						errs <- err
						return
					}
					report("event %d", e.ID)
				}
			}
		}()
	}
	return <-errs
}

// committed is what a killed writer reported as committed.
type committed struct {
	rollouts map[int64]int64 // ID → highest generation reported
	events   []int64
}

func (c *committed) add(line string) {
	f := strings.Fields(line)
	num := func(i int) int64 {
		if i >= len(f) {
			return -1
		}
		n, _ := strconv.ParseInt(f[i], 10, 64)
		return n
	}
	switch {
	case len(f) == 2 && f[0] == "rollout":
		c.rollouts[num(1)] = max(c.rollouts[num(1)], 1)
	case len(f) == 3 && f[0] == "update":
		c.rollouts[num(1)] = max(c.rollouts[num(1)], num(2))
	case len(f) == 2 && f[0] == "event":
		c.events = append(c.events, num(1))
	}
}

func TestStore_survivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills writer processes; skipped with -short")
	}
	path := filepath.Join(t.TempDir(), "gantry.db")
	all := committed{rollouts: map[int64]int64{}}
	for kill := range 6 {
		// Kill after a random number of reported writes, plus a random
		// moment more, so the kill lands anywhere in a transaction.
		after := 1 + rand.IntN(2000)
		n := runAndKill(t, path, after, time.Duration(rand.IntN(3000))*time.Microsecond, &all)
		t.Logf("kill %d: after %d reported writes (wanted %d)", kill, n, after)

		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("kill %d: reopen: %v", kill, err)
		}
		if err := s.IntegrityCheck(t.Context()); err != nil {
			t.Fatalf("kill %d: %v", kill, err)
		}
		for id, gen := range all.rollouts {
			r, err := s.GetRollout(t.Context(), id)
			if err != nil {
				t.Fatalf("kill %d: rollout %d was reported committed: %v", kill, id, err)
			}
			if r.Generation < gen {
				t.Fatalf("kill %d: rollout %d at generation %d, but generation %d was reported committed", kill, id, r.Generation, gen)
			}
		}
		events, err := s.ListEvents(t.Context(), rollout.EventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		have := map[int64]bool{}
		for _, e := range events {
			have[e.ID] = true
		}
		for _, id := range all.events {
			if !have[id] {
				t.Fatalf("kill %d: event %d was reported committed but is missing", kill, id)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if len(all.rollouts) == 0 || len(all.events) == 0 {
		t.Fatalf("writers reported %d rollouts and %d events, want some of each", len(all.rollouts), len(all.events))
	}
}

// runAndKill starts a writer on path, SIGKILLs it once it has reported
// after writes and then delay has passed, and records every write it
// reported. It returns how many writes were reported.
func runAndKill(t *testing.T, path string, after int, delay time.Duration, into *committed) int {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start writer: %v", err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()

	lines := bufio.NewScanner(out)
	n := 0
	for n < after && lines.Scan() {
		into.add(lines.Text())
		n++
	}
	if n < after {
		cmd.Wait()
		killed = true
		t.Fatalf("writer stopped after %d writes (%v): %s", n, cmd.ProcessState, stderr.String())
	}
	time.Sleep(delay)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill writer: %v", err)
	}
	// Lines written before the kill were committed too; the pipe ends
	// when the writer is gone.
	for lines.Scan() {
		into.add(lines.Text())
		n++
	}
	cmd.Wait()
	killed = true
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("writer ended with %v, not by SIGKILL: %s", cmd.ProcessState, stderr.String())
	}
	return n
}
