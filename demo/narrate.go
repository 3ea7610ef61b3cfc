package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/loadgen"
	"github.com/gantry-dev/gantry/rollout"
)

// narrator prints timestamped lines relative to the demo's start.
type narrator struct {
	w     io.Writer
	start time.Time
}

func newNarrator(w io.Writer) *narrator { return &narrator{w: w, start: time.Now()} }

func (n *narrator) say(format string, args ...any) {
	fmt.Fprintf(n.w, "[%5.1fs] %s\n", time.Since(n.start).Seconds(), fmt.Sprintf(format, args...))
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
	lastLine := ""
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	lastProgress := time.Time{}
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
		if line := progressLine(st, load); line != lastLine && time.Since(lastProgress) >= time.Second {
			d.n.say("   %s", line)
			lastLine, lastProgress = line, time.Now()
		}
		cur, err := d.c.Rollout(ctx, ro.ID)
		if err != nil {
			return sr, err
		}
		if cur.Phase.Final() {
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

// progressLine is one line: the rollout's phase, then per revision its
// ready/total instances, traffic weight, requests and errors.
func progressLine(st api.Status, load *loadgen.Load) string {
	var b strings.Builder
	if st.Rollout != nil {
		fmt.Fprintf(&b, "rollout %d %-11s", st.Rollout.ID, st.Rollout.Phase)
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
		fmt.Fprintf(&b, " | rev %d %s: ready %d/%d, weight %3.0f%%, %d req, %d 5xx", rs.Number, rs.Version, ready, len(rs.Instances),
			rs.Traffic.Weight, rs.Traffic.Requests, rs.Traffic.Errors)
	}
	if load != nil {
		fmt.Fprintf(&b, " | client: %d sent, %d failed", load.Total(), load.Failed())
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
	fmt.Fprintln(tw, "  ROLLOUT\tVERSION\tRESULT\tFAILED REQUESTS\tWHY")
	for _, s := range res.Steps {
		why := string(s.Rollout.Reason)
		if s.Rollout.Phase != rollout.Succeeded {
			why += ": " + s.Rollout.Message
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%d\t%s\n", s.Rollout.ID, s.Version, s.Rollout.Phase, s.Failed, why)
	}
	tw.Flush()
	fmt.Fprintln(w)
	if err := verdict(res); err != nil {
		fmt.Fprintf(w, "Something went wrong:\n%v\n", err)
		return
	}
	fmt.Fprintln(w, "Every rollout ended as it should, with zero failed requests outside the bad canary's own errors.")
}
