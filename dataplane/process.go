package dataplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Command is how to start a data plane process: the executable and the
// arguments before the data directory's flag, such as
// {"/usr/bin/gantry", "proxy"}.
type Command []string

// startWait bounds how long a started process may take to serve its
// socket; startPoll is how often Start looks.
const (
	startWait = 20 * time.Second
	startPoll = 5 * time.Millisecond
)

// StartOptions say what a started data plane begins with; the zero value:
// nothing (it binds each environment's listener when programmed).
type StartOptions struct {
	// Takeover takes the listeners of the data plane serving dataDir now
	// (an upgrade: `gantry proxy --takeover`).
	Takeover bool
	// Inherit, when set, are the listening sockets and state of a data
	// plane that died, kept by a Holder: the new process serves that state
	// on those sockets before it answers its control socket, accepting
	// the connections queued meanwhile (`gantry proxy --inherit`).
	Inherit *Inheritance
	// Standby starts a warm standby (`gantry proxy --standby`): Start
	// returns once it answers on StandbyFile instead of SocketFile.
	Standby bool
}

// Start runs cmd as a data plane for dataDir in its own process group, so
// that it outlives the caller (a server that stops or crashes leaves it
// serving), with its log appended to dataDir's LogFile. Start returns
// once the new process serves the control socket (the standby's, for a
// standby); exited receives its exit when the caller is still alive to
// see it, and is closed after that.
func Start(ctx context.Context, cmd Command, dataDir string, opts StartOptions) (b Boot, exited <-chan error, err error) {
	if len(cmd) == 0 {
		return Boot{}, nil, errors.New("start the data plane: no command")
	}
	logf, err := os.OpenFile(filepath.Join(dataDir, LogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return Boot{}, nil, fmt.Errorf("start the data plane: %w", err)
	}
	defer logf.Close()
	args := append(append([]string{}, cmd[1:]...), "--data", dataDir)
	if opts.Takeover {
		args = append(args, "--takeover")
	}
	sock := SocketFile
	if opts.Standby {
		args, sock = append(args, "--standby"), StandbyFile
	}
	c := exec.Command(cmd[0], args...)
	c.Stdout, c.Stderr = logf, logf
	if in := opts.Inherit; in != nil {
		b, err := json.Marshal(handoff{State: in.State, Keys: in.Keys})
		if err != nil {
			return Boot{}, nil, fmt.Errorf("start the data plane: %w", err)
		}
		args = append(args, "--inherit")
		c.Args = append([]string{cmd[0]}, args...)
		c.Stdin, c.ExtraFiles = bytes.NewReader(b), in.Files
	}
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		return Boot{}, nil, fmt.Errorf("start the data plane (%s): %w", cmd[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait(); close(done) }()
	client := NewClient(filepath.Join(dataDir, sock))
	defer client.CloseIdle()
	deadline := time.Now().Add(startWait)
	for {
		l, err := client.Check(ctx)
		if err == nil && l.Boot.PID == c.Process.Pid {
			return l.Boot, done, nil
		}
		select {
		case werr := <-done:
			return Boot{}, nil, fmt.Errorf("the data plane process (pid %d) exited before serving %s: %v; see %s",
				c.Process.Pid, client.Socket(), werr, filepath.Join(dataDir, LogFile))
		case <-ctx.Done():
			return Boot{}, nil, ctx.Err()
		case <-time.After(startPoll):
		}
		if time.Now().After(deadline) {
			_ = c.Process.Kill()
			return Boot{}, nil, fmt.Errorf("the data plane process (pid %d) did not serve %s within %v; see %s",
				c.Process.Pid, client.Socket(), startWait, filepath.Join(dataDir, LogFile))
		}
	}
}

// Alive reports whether process pid exists.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// zombie reports whether pid has exited but not been reaped (its parent,
// this process, has not waited for it yet).
func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] == 'Z'
}
