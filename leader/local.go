package leader

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Local is the Elector of a server with a store of its own (SQLite): it
// leads as soon as it holds an exclusive flock on a file in the data
// directory, which the kernel releases when the process ends, however it
// ends. It has no followers: a second server on the same directory is
// refused.
type Local struct {
	path string
	self Info

	mu    sync.Mutex
	f     *os.File
	since time.Time
	lost  chan struct{}
}

var _ Elector = (*Local)(nil)

// ErrLocked: another live server holds the data directory's lock.
var ErrLocked = errors.New("another gantry server uses this data directory")

// NewLocal returns a Local elector locking the file at path (created when
// missing), such as <data>/gantry.lock. self is what Leader reports.
func NewLocal(path string, self Info) *Local {
	return &Local{path: path, self: self, lost: make(chan struct{})}
}

// TryLead implements Elector. It returns false, with an error wrapping
// ErrLocked that names the holder's pid, when another process holds the lock.
func (l *Local) TryLead(context.Context) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		return true, nil
	}
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return false, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(l.path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return false, fmt.Errorf("%w (lock %s held by pid %s): stop that server, or give this one another --data", ErrLocked, l.path, strings.TrimSpace(string(holder)))
		}
		return false, fmt.Errorf("lock %s: %w", l.path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	l.f, l.since = f, time.Now()
	return true, nil
}

// Lead implements Elector: with no followers to wait for, it is TryLead,
// failing when the lock is held.
func (l *Local) Lead(ctx context.Context) error {
	ok, err := l.TryLead(ctx)
	if err == nil && !ok {
		err = ErrLocked
	}
	return err
}

// Leader implements Elector: this server once it leads, else ErrNoLeader.
func (l *Local) Leader(context.Context) (Info, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return Info{}, ErrNoLeader
	}
	in := l.self
	in.Since = l.since
	return in, nil
}

// Role implements Elector.
func (l *Local) Role() Role {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		return Leader
	}
	return Follower
}

// Lost implements Elector; a Local leader loses its lock only by ending.
func (l *Local) Lost() <-chan struct{} { return l.lost }

// Close implements Elector: it releases the lock.
func (l *Local) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
