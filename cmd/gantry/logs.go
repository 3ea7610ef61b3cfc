package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/client"
)

func init() { register(newLogsCmd) }

func newLogsCmd() *cobra.Command {
	var r remote
	var tail int
	var follow bool
	var timeout time.Duration
	var sinceFlag string
	cmd := &cobra.Command{
		Use:   "logs APP [INSTANCE] [--env ENV] [-f] [--tail N] [--since 10m|TIME]",
		Short: "Print instances' logs, each line prefixed with its instance (every instance's when none is named)",
		Long: `Print the last --tail lines of an instance's log, or of every instance's, each
line prefixed with [instance]. With --since (a duration such as 10m, 2h or 1d,
or an RFC 3339 time), print what was written since then instead, all of it
unless --tail is given too; the local backend knows when output was written
to the second, so lines up to a second older may show. With -f, go on
printing new lines from every instance as they come until Ctrl-C or --timeout.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, env, err := r.target(ctx, args[0])
			if err != nil {
				return err
			}
			if tail < 0 {
				return fmt.Errorf("--tail %d: give a number of lines ≥ 0", tail)
			}
			since, err := parseSince(sinceFlag, time.Now())
			if err != nil {
				return err
			}
			if !since.IsZero() && !cmd.Flags().Changed("tail") {
				tail = -1 // everything since
			}
			var ids []string
			if len(args) == 2 {
				ids = []string{args[1]}
			} else {
				st, err := c.Status(ctx, args[0], env)
				if err != nil {
					return err
				}
				for _, rs := range st.Revisions {
					for _, in := range rs.Instances {
						ids = append(ids, in.ID)
					}
				}
				if len(ids) == 0 {
					return fmt.Errorf("%s has no instances in %s", args[0], env)
				}
			}
			if follow && timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeoutCause(ctx, timeout, errTimedOut)
				defer cancel()
			}
			out := &prefixWriter{w: cmd.OutOrStdout()}
			for _, id := range ids {
				var buf bytes.Buffer
				tailBytes := int64(max(tail, 1))*512 + 4096
				if tail < 0 {
					tailBytes = 0 // no limit
				}
				if err := c.LogsSince(ctx, args[0], env, id, tailBytes, since, &buf); err != nil {
					return fmt.Errorf("log of %s: %w", id, err)
				}
				out.lines(id, lastLines(buf.String(), tail))
			}
			if !follow {
				return nil
			}
			var wg sync.WaitGroup
			errs := make(chan error, len(ids))
			for _, id := range ids {
				wg.Go(func() { errs <- followLog(ctx, c, args[0], env, id, out) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil && ctx.Err() == nil {
					return err
				}
			}
			return followEnded(ctx)
		},
	}
	cmd.Flags().IntVar(&tail, "tail", 20, "print the last N lines of each log first (with --since: all lines since, unless given)")
	cmd.Flags().StringVar(&sinceFlag, "since", "", "print only what was written since a duration ago (10m, 2h, 1d) or an RFC 3339 time (2026-01-02T15:04:05Z)")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "go on printing new lines until Ctrl-C")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "with -f: stop after this long (exit 0); 0: until Ctrl-C")
	r.addFlags(cmd, true)
	return cmd
}

// followLog streams new lines of one instance's log into out.
func followLog(ctx context.Context, c *client.Client, app, env, id string, out *prefixWriter) error {
	// From one byte before the end: what was printed already is not
	// repeated, and the partial line that byte ends is dropped.
	rc, err := c.FollowLogs(ctx, app, env, id, 1)
	if err != nil {
		return fmt.Errorf("follow the log of %s: %w", id, err)
	}
	defer rc.Close()
	go func() { <-ctx.Done(); rc.Close() }()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		out.lines(id, []string{sc.Text()})
	}
	return nil
}

// parseSince reads --since: a duration before now (10m, 2h, 1d) or an RFC
// 3339 time; empty: the zero time (no limit).
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := parseDays(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--since %q: give a duration such as 10m, 2h or 1d, or an RFC 3339 time such as %s", s, now.UTC().Format(time.RFC3339))
	}
	return now.Add(-d), nil
}

// lastLines returns the last n complete lines of s (n < 0: all of them),
// dropping a first line that a tail read may have cut.
func lastLines(s string, n int) []string {
	if n == 0 || s == "" {
		return nil
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if n > 0 && len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// prefixWriter writes lines of several instances, each whole and
// prefixed with its instance.
type prefixWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *prefixWriter) lines(id string, lines []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range lines {
		fmt.Fprintf(p.w, "[%s] %s\n", id, l)
	}
}
