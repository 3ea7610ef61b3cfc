package local

import (
	"time"
)

// sample reads /proc every StatsInterval and updates each running
// instance's CPUMillis (utime+stime of its process group over the
// interval), RSSBytes (resident memory of its process group), OpenFiles
// and DiskReadBytes/DiskWriteBytes (/proc/PID/fd and /proc/PID/io of its
// processes; left unset when they cannot be read).
func (b *Backend) sample() {
	defer b.wg.Done()
	t := time.NewTicker(b.opts.StatsInterval)
	defer t.Stop()
	for {
		select {
		case <-b.detach:
			return
		case <-t.C:
		}
		b.mu.Lock()
		n := len(b.instances)
		b.mu.Unlock()
		if n == 0 {
			continue
		}
		groups := scanGroups()
		now := time.Now()
		b.indexLogs(now)
		b.mu.Lock()
		for _, in := range b.instances {
			if in.proc == nil {
				continue
			}
			g, ok := groups[in.proc.pid]
			if !ok {
				continue
			}
			in.info.RSSBytes = g.rssBytes
			if f := filesOf(g.pids); f.ok {
				in.info.OpenFiles, in.info.DiskReadBytes, in.info.DiskWriteBytes = &f.openFiles, &f.readBytes, &f.writeBytes
			}
			if !in.lastSample.IsZero() && g.ticks >= in.lastTicks {
				elapsed := now.Sub(in.lastSample).Seconds()
				if elapsed > 0 {
					in.info.CPUMillis = int64(float64(g.ticks-in.lastTicks) * 1000 / clockTicks / elapsed)
				}
			}
			in.lastTicks, in.lastSample = g.ticks, now
		}
		b.mu.Unlock()
	}
}
