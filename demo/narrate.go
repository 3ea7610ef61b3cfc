package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/loadgen"
	"github.com/gantry-dev/gantry/rollout"
)

// Width is the most columns a line of the demo takes.
const Width = 100

// narrator prints timestamped lines relative to the demo's start, none
// wider than Width. Progress is one line: on a terminal it is redrawn in
// place under the narration; otherwise it is printed as a plain line when
// it changed and at most once a second.
type narrator struct {
	w        io.Writer
	start    time.Time
	tty      bool
	progress string    // the progress line shown (terminal)
	last     string    // the last progress printed (plain)
	lastAt   time.Time // when it was printed (plain)
}

func newNarrator(w io.Writer, tty bool) *narrator {
	return &narrator{w: w, start: time.Now(), tty: tty}
}

// prefix is the timestamp every line starts with, 9 columns.
func (n *narrator) prefix() string { return fmt.Sprintf("[%5.1fs] ", time.Since(n.start).Seconds()) }

// say prints a line, wrapped at Width with its continuation indented.
func (n *narrator) say(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	indent := len(n.prefix()) + len(msg) - len(strings.TrimLeft(msg, " ")) + 2
	var b strings.Builder
	if n.tty && n.progress != "" {
		b.WriteString("\r\x1b[2K") // the progress line gives way...
	}
	for _, l := range wrap(n.prefix()+msg, Width, indent) {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if n.tty && n.progress != "" {
		b.WriteString(n.progress) // ...and comes back under the new lines
	}
	io.WriteString(n.w, b.String())
}

// show sets the progress line.
func (n *narrator) show(line string) {
	if !n.tty {
		if line != n.last && time.Since(n.lastAt) >= time.Second {
			n.say("%s", line)
			n.last, n.lastAt = line, time.Now()
		}
		return
	}
	n.progress = truncate(n.prefix()+line, Width)
	io.WriteString(n.w, "\r\x1b[2K"+n.progress)
}

// endProgress leaves the last progress line on the terminal as a line of
// its own; plain output already has it.
func (n *narrator) endProgress() {
	if n.tty && n.progress != "" {
		io.WriteString(n.w, "\n")
		n.progress = ""
	}
	n.last = ""
}

// wrap breaks s into lines of at most width columns at spaces, indenting
// every line after the first by indent columns; a word longer than a line
// is cut.
func wrap(s string, width, indent int) []string {
	indent = min(indent, width/2)
	var lines []string
	line := ""
	for _, word := range strings.Split(s, " ") {
		switch {
		case line == "" && len(lines) == 0:
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = strings.Repeat(" ", indent) + word
		}
		for utf8.RuneCountInString(line) > width {
			r := []rune(line)
			lines = append(lines, string(r[:width]))
			line = strings.Repeat(" ", indent) + string(r[width:])
		}
	}
	return append(lines, line)
}

// truncate cuts s to width columns, ending it with … when cut.
func truncate(s string, width int) string {
	r := []rune(s)
	if len(r) <= width {
		return s
	}
	return string(r[:width-1]) + "…"
}

// driver deploys versions and shows their progress.
type driver struct {
	c *client.Client
	n *narrator
}

// deploy rolls out version, printing events and a progress line every
// second until the rollout ends.
func (d *driver) deploy(ctx context.Context, title, version string, want rollout.Phase, load *loadgen.Load) (StepResult, error) {
	sr := StepResult{Title: title, Version: version, Want: want}
	d.n.say("== %s", title)
	var failedBefore uint64
	if load != nil {
		failedBefore = load.Failed()
	}
	ro, err := d.c.Deploy(ctx, appName, envName, version)
	if err != nil {
		return sr, fmt.Errorf("deploy %s: %w", version, err)
	}
	var after int64
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		evs, err := d.c.Events(ctx, appName, envName, after, ro.ID)
		if err != nil {
			return sr, err
		}
		for _, e := range evs {
			after = e.ID
			d.n.say("   event %-8s %-24s %s", e.Type, e.Reason, e.Message)
		}
		st, err := d.c.Status(ctx, appName, envName)
		if err != nil {
			return sr, err
		}
		d.n.show("   " + progressLine(st, load))
		cur, err := d.c.Rollout(ctx, ro.ID)
		if err != nil {
			return sr, err
		}
		if cur.Phase.Final() {
			d.n.endProgress()
			sr.Rollout = cur
			if load != nil {
				sr.Failed = load.Failed() - failedBefore
			}
			mark := "as expected"
			if !sr.OK() {
				mark = fmt.Sprintf("but %s was expected", want)
			}
			d.n.say("   rollout %d %s (%s) %s", cur.ID, cur.Phase, cur.Reason, mark)
			if cur.Phase != rollout.Succeeded {
				d.n.say("   why: %s", cur.Message)
			}
			return sr, nil
		}
		select {
		case <-ctx.Done():
			return sr, ctx.Err()
		case <-tick.C:
		}
	}
}

// progressLine is one line: the rollout's phase, then per revision with
// instances its version, ready/total instances, traffic weight and 5xx
// answers, then what the client sent and saw fail.
func progressLine(st api.Status, load *loadgen.Load) string {
	var b strings.Builder
	if st.Rollout != nil {
		fmt.Fprintf(&b, "rollout %d %s", st.Rollout.ID, st.Rollout.Phase)
	}
	for _, rs := range st.Revisions {
		ready := 0
		for _, in := range rs.Instances {
			if in.Ready {
				ready++
			}
		}
		if len(rs.Instances) == 0 {
			continue
		}
		fmt.Fprintf(&b, " | %s%s %d/%d %.0f%% %d 5xx", rs.Version, groupLabel(rs.Group), ready, len(rs.Instances), rs.Traffic.Weight, rs.Traffic.Errors)
	}
	if load != nil {
		fmt.Fprintf(&b, " | sent %d, failed %d", load.Total(), load.Failed())
	}
	return b.String()
}

// summarize prints what each version served and how each rollout ended.
func summarize(w io.Writer, res Result) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Summary")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  VERSION\tSERVED\tFAILED")
	for _, c := range res.Served {
		fmt.Fprintf(tw, "  %s\t%d\t%d\n", c.Version, c.OK, c.Failed)
	}
	fmt.Fprintf(tw, "  all\t%d\t%d\n", res.Total-res.Failed, res.Failed)
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ROLLOUT\tVERSION\tRESULT\tFAILED REQUESTS\tREASON")
	for _, s := range res.Steps {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%d\t%s\n", s.Rollout.ID, s.Version, s.Rollout.Phase, s.Failed, s.Rollout.Reason)
	}
	tw.Flush()
	for _, s := range res.Steps {
		if s.Rollout.Phase != rollout.Succeeded {
			for _, l := range wrap(fmt.Sprintf("  why rollout %d %s: %s", s.Rollout.ID, s.Rollout.Phase, s.Rollout.Message), Width, 4) {
				fmt.Fprintln(w, l)
			}
		}
	}
	fmt.Fprintln(w)
	if err := verdict(res); err != nil {
		fmt.Fprintln(w, "Something went wrong:")
		for _, l := range wrap(err.Error(), Width, 2) {
			fmt.Fprintln(w, l)
		}
		return
	}
	fmt.Fprintln(w, "Every rollout ended as it should, with zero failed requests outside the bad canary's own errors.")
}

// groupLabel marks a group of a revision's instances in a progress line:
// " baseline" for a canary's like-for-like baseline, "" otherwise.
func groupLabel(group string) string {
	if group == "" {
		return ""
	}
	return " " + group
}
