package local

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// process is one run of an instance: a child gantry started, or a process
// adopted from an earlier gantry. Its process group id is its pid.
type process struct {
	pid       int
	startTime uint64
	adopted   bool
	// done is closed once the process has exited; exit then says how, and
	// code or sig say it as data when known (not for adopted processes).
	done   chan struct{}
	exit   string
	code   *int
	sig    string
	exitAt time.Time
	// stopping, for an adopted process, is closed once it was signalled to
	// stop; the poller then checks every adoptedStopPoll.
	stopping     chan struct{}
	stoppingOnce sync.Once
}

// adoptedStopPoll is how often an adopted process that was told to stop
// is checked for its exit.
const adoptedStopPoll = 20 * time.Millisecond

// launch describes one process to start.
type launch struct {
	path    string
	args    []string
	dir     string
	env     []string
	logFile *os.File
}

// startProcess starts l in its own process group, with stdout and stderr
// on l.logFile, and reaps it in the background.
func startProcess(l launch) (*process, error) {
	cmd := exec.Command(l.path, l.args...)
	cmd.Dir = l.dir
	cmd.Env = l.env
	cmd.Stdout, cmd.Stderr = l.logFile, l.logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{pid: cmd.Process.Pid, done: make(chan struct{})}
	// The child is not reaped before Wait, so its stat is readable even if
	// it has already exited.
	if st, err := readStat(p.pid); err == nil {
		p.startTime = st.startTime
	}
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee) || err == nil:
			p.exit = cmd.ProcessState.String()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				p.sig = unix.SignalName(ws.Signal())
			} else {
				code := cmd.ProcessState.ExitCode()
				p.code = &code
			}
		default:
			p.exit = err.Error()
		}
		p.exitAt = time.Now()
		close(p.done)
	}()
	return p, nil
}

// adoptProcess supervises a live process that gantry did not start in
// this run. Not being its parent, gantry cannot wait for it: a goroutine
// polls /proc every interval and closes done once the pid is gone, a zombie,
// or a different process (another start time).
func adoptProcess(pid int, startTime uint64, interval time.Duration) *process {
	p := &process{pid: pid, startTime: startTime, adopted: true, done: make(chan struct{}), stopping: make(chan struct{})}
	stopping := p.stopping
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-stopping:
				// Signalled to stop: look often, so the instance leaves
				// status as soon as its process is gone.
				t.Reset(adoptedStopPoll)
				stopping = nil
				continue
			}
			if !p.alive() {
				p.exit = "exited (adopted process: exit status unknown)"
				p.exitAt = time.Now()
				close(p.done)
				return
			}
		}
	}()
	return p
}

// alive reports whether the process still runs, by /proc.
func (p *process) alive() bool {
	st, err := readStat(p.pid)
	return err == nil && st.state != 'Z' && (p.startTime == 0 || st.startTime == p.startTime)
}

// exited reports whether done is closed.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the process group. For an adopted process it first
// checks that the pid is still the recorded process, so a reused pid is
// never signalled. After a child leader has exited, the rest of its group
// (if any) is still signalled: that is how leftovers are cleaned up.
func (p *process) signal(sig syscall.Signal) error {
	if p.adopted && (p.exited() || !p.alive()) {
		return nil
	}
	err := syscall.Kill(-p.pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("signal %v to process group %d: %w", sig, p.pid, err)
	}
	return nil
}

// stop sends SIGTERM to the group, waits up to grace (or until force is
// closed) for the leader to exit, then sends SIGKILL to whatever is left of
// the group. It reports whether SIGKILL was needed for the leader.
func (p *process) stop(grace time.Duration, force <-chan struct{}) (killed bool) {
	if !p.exited() {
		p.signal(syscall.SIGTERM)
		if p.adopted {
			p.stoppingOnce.Do(func() { close(p.stopping) })
		}
		t := time.NewTimer(grace)
		select {
		case <-p.done:
		case <-t.C:
			killed = true
		case <-force:
			killed = true
		}
		t.Stop()
	}
	if p.adopted && p.exited() {
		// The pid may already belong to someone else: leave the group alone.
		return killed
	}
	p.signal(syscall.SIGKILL)
	<-p.done
	return killed
}
