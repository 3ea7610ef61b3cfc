package local

import (
	"bufio"
	"fmt"
	"os"
	"sync"
	"time"
)

// A log's index (<log>.idx beside it) maps time to size: each line is
// "<unix nanoseconds> <bytes>", the log's size when the sampler saw it,
// written when the size changed. It serves LogOptions.Since: the output
// since a time starts at the size of the last entry at or before it, so
// lines up to one StatsInterval older may come along, none newer are lost.
// While no server runs nothing is indexed; that output counts as written
// before the next server's first entry.

// logIndex remembers the size each log had when last indexed.
type logIndex struct {
	mu    sync.Mutex
	sizes map[string]int64 // by log path
}

// mark appends (now, size) to the index of each log whose size changed.
func (x *logIndex) mark(paths []string, now time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.sizes == nil {
		x.sizes = map[string]int64{}
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil || fi.Size() == x.sizes[p] {
			continue
		}
		f, err := os.OpenFile(p+".idx", os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			continue
		}
		if _, err := fmt.Fprintf(f, "%d %d\n", now.UnixNano(), fi.Size()); err == nil {
			x.sizes[p] = fi.Size()
		}
		f.Close()
	}
}

// sinceOffset returns where the output of log path since t starts: the
// size of its index's last entry at or before t; 0 without one.
func sinceOffset(path string, t time.Time) int64 {
	f, err := os.Open(path + ".idx")
	if err != nil {
		return 0
	}
	defer f.Close()
	var off int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var at, size int64
		if _, err := fmt.Sscan(sc.Text(), &at, &size); err != nil {
			continue
		}
		if at > t.UnixNano() {
			break
		}
		off = size
	}
	return off
}

// indexLogs indexes the logs of every instance; the sampler calls it.
func (b *Backend) indexLogs(now time.Time) {
	b.mu.Lock()
	paths := make([]string, 0, len(b.instances))
	for _, in := range b.instances {
		paths = append(paths, b.logPath(in.info.App, in.info.Env, in.info.ID))
	}
	b.mu.Unlock()
	b.logIdx.mark(paths, now)
}
