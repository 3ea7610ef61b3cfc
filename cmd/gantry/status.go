package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/strategy"
)

func newRolloutStatusCmd() *cobra.Command {
	var r remote
	var watch bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "status APP [--env ENV] [--watch]",
		Short: "Show the latest rollout, instances and traffic per revision",
		Long: `Show the latest rollout, the instances and the traffic of each revision.

With --watch, follow it until the rollout ends: on a terminal the view is
redrawn in place as a tree (steps, weights, revisions with their instances,
what the rollout waits for); otherwise one line is printed per change. The
exit code is then deploy --wait's (0 succeeded, 2 rolled back, 3 failed,
4 superseded; 1 at --timeout, 130 on Ctrl-C).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, env, err := r.target(ctx, args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if !watch {
				st, err := c.Status(ctx, args[0], env)
				if err != nil {
					return err
				}
				if r.json() {
					return printJSON(out, st)
				}
				printStatus(out, st)
				return nil
			}
			ctx, cancel := context.WithTimeoutCause(ctx, timeout, errTimedOut)
			defer cancel()
			w := &statusWatch{c: c, app: args[0], env: env, out: out, json: r.json(), tty: isTerminal(out)}
			return w.run(ctx, timeout)
		},
	}
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "follow the rollout until it ends")
	addTimeout(cmd, &timeout, "with --watch")
	r.addFlags(cmd, true)
	return cmd
}

// isTerminal reports whether w is a terminal, where views redraw in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// statusWatch follows one environment's status until its rollout ends.
type statusWatch struct {
	c        *client.Client
	app, env string
	out      io.Writer
	json     bool
	tty      bool
	desc     map[int]rollout.Description // revision → its strategy's description
	last     string                      // the last line printed (plain output)
	drawn    int                         // lines of the last frame (terminal output)
}

func (w *statusWatch) run(ctx context.Context, timeout time.Duration) error {
	for {
		st, err := w.c.Status(ctx, w.app, w.env)
		if err != nil {
			if ctx.Err() != nil {
				return w.stopped(ctx, st, timeout, err)
			}
			return err
		}
		switch {
		case w.json:
			if err := printJSON(w.out, st); err != nil {
				return err
			}
		case w.tty:
			w.redraw(statusTree(st, w.describe(ctx, st), time.Now()))
		default:
			if line := statusLine(st); line != w.last {
				fmt.Fprintf(w.out, "%s  %s\n", time.Now().Format("15:04:05"), line)
				w.last = line
			}
		}
		if st.Rollout == nil {
			return nil
		}
		if st.Rollout.Phase.Final() {
			return rolloutExit(*st.Rollout)
		}
		if err := sleepCtx(ctx, time.Second); err != nil {
			return w.stopped(ctx, st, timeout, err)
		}
	}
}

func (w *statusWatch) stopped(ctx context.Context, st api.Status, timeout time.Duration, err error) error {
	ro := rollout.Rollout{App: w.app, Env: w.env}
	if st.Rollout != nil {
		ro = *st.Rollout
	}
	return stoppedWaiting(ctx, err, ro, timeout)
}

// redraw replaces the previous frame with frame: the cursor goes back up
// over the lines drawn last and each line is cleared as it is rewritten.
func (w *statusWatch) redraw(frame string) {
	var b strings.Builder
	if w.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", w.drawn)
	}
	lines := strings.Split(strings.TrimRight(frame, "\n"), "\n")
	for _, l := range lines {
		b.WriteString("\x1b[2K")
		b.WriteString(l)
		b.WriteByte('\n')
	}
	b.WriteString("\x1b[J") // clear what is left of a longer previous frame
	io.WriteString(w.out, b.String())
	w.drawn = len(lines)
}

// describe returns the strategy description (steps, analysis) of the
// rollout's target revision; zero when there is no rollout.
func (w *statusWatch) describe(ctx context.Context, st api.Status) rollout.Description {
	if st.Rollout == nil {
		return rollout.Description{}
	}
	n := st.Rollout.ToRevision
	if d, ok := w.desc[n]; ok {
		return d
	}
	revs, err := w.c.Revisions(ctx, w.app, w.env)
	if err != nil {
		return rollout.Description{}
	}
	if w.desc == nil {
		w.desc = map[int]rollout.Description{}
	}
	for _, rev := range revs {
		if rev.Number == n {
			if d, ok := strategy.Describe(rev.Spec); ok {
				w.desc[n] = d
			}
		}
	}
	return w.desc[n]
}

// statusLine is one line of plain --watch output.
func statusLine(st api.Status) string {
	if st.Rollout == nil {
		return "never deployed"
	}
	ro := st.Rollout
	var revs []string
	for _, rs := range st.Revisions {
		if !live(rs) {
			continue
		}
		ready := 0
		for _, in := range rs.Instances {
			if in.Ready {
				ready++
			}
		}
		revs = append(revs, fmt.Sprintf("rev %s %s %.0f%% %d/%d ready", rs.Name(), rs.Version, rs.Traffic.Weight, ready, len(rs.Instances)))
	}
	line := fmt.Sprintf("rollout %d %s step %d", ro.ID, ro.Phase, ro.Step+1)
	if ro.Reason != "" {
		line += fmt.Sprintf(" %s", ro.Reason)
	}
	if len(revs) > 0 {
		line += "; " + strings.Join(revs, "; ")
	}
	if st.Waiting != "" {
		line += "; " + st.Waiting
	}
	return line
}

// live reports whether a revision runs instances or takes traffic.
func live(rs api.RevisionStatus) bool { return len(rs.Instances) > 0 || rs.Traffic.Weight > 0 }

// phaseIcon marks a phase as kubectl argo rollouts does.
func phaseIcon(p rollout.Phase) string {
	switch {
	case p == rollout.Succeeded:
		return "✔"
	case p == rollout.Paused:
		return "॥"
	case p.Final():
		return "✖"
	}
	return "◌"
}

// statusTree renders a status as the terminal view of --watch.
func statusTree(st api.Status, d rollout.Description, now time.Time) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 1, ' ', 0)
	fmt.Fprintf(tw, "Name:\t%s\n", st.App)
	fmt.Fprintf(tw, "Environment:\t%s\n", st.Env)
	if st.ProxyAddr != "" {
		fmt.Fprintf(tw, "Proxy:\thttp://%s\n", st.ProxyAddr)
	}
	if dp := st.DataPlane; dp != nil {
		fmt.Fprintf(tw, "Data plane:\t%s\n", dataPlaneLine(dp))
	}
	ro := st.Rollout
	if ro == nil {
		fmt.Fprintf(tw, "Status:\tnever deployed\n")
		tw.Flush()
		return b.String()
	}
	fmt.Fprintf(tw, "Status:\t%s %s\n", phaseIcon(ro.Phase), ro.Phase)
	if ro.Reason != "" || ro.Message != "" {
		fmt.Fprintf(tw, "Message:\t%s: %s\n", ro.Reason, ro.Message)
	}
	if st.Waiting != "" {
		fmt.Fprintf(tw, "Waiting:\t%s\n", st.Waiting)
	}
	fmt.Fprintf(tw, "Rollout:\t%d, revision %d → %d, %s, by %s, %s ago\n", ro.ID, ro.FromRevision, ro.ToRevision, ro.Strategy,
		ro.Actor, humanAge(now.Sub(ro.CreatedAt)))
	if n := len(d.Steps); n > 0 {
		cur := min(ro.Step, n-1)
		done := cur
		if ro.Phase == rollout.Succeeded {
			done = n
		}
		fmt.Fprintf(tw, "Step:\t%d/%d %s %s\n", cur+1, n, bar(float64(done)*100/float64(n), 10), d.Steps[cur])
	}
	if a := analysisState(ro, d); a != "" {
		fmt.Fprintf(tw, "Analysis:\t%s\n", a)
	}
	tw.Flush()
	if len(d.Steps) > 1 {
		b.WriteString("Steps:\n")
		for i, name := range d.Steps {
			fmt.Fprintf(&b, "  %s %d. %s\n", stepIcon(i, ro), i+1, name)
		}
	}
	tw.Flush()
	b.WriteString("\n")
	tw = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tWEIGHT\tREQUESTS\t5XX\tP99\tAGE")
	var liveRevs []api.RevisionStatus
	for _, rs := range st.Revisions {
		if live(rs) {
			liveRevs = append(liveRevs, rs)
		}
	}
	for i := len(liveRevs) - 1; i >= 0; i-- {
		rs := liveRevs[i]
		branch, stem := "├──", "│  "
		if i == 0 {
			branch, stem = "└──", "   "
		}
		label := ""
		switch {
		case rs.Group != "":
			label = " " + rs.Group
		case rs.Number == st.Stable:
			label = " stable"
		case rs.Number == ro.ToRevision && !ro.Phase.Final():
			label = " new"
		}
		ready := 0
		for _, in := range rs.Instances {
			if in.Ready {
				ready++
			}
		}
		fmt.Fprintf(tw, "%s# revision:%d %s%s\t%d/%d ready\t%s %3.0f%%\t%d\t%d\t%.1fms\t\n", branch, rs.Number, rs.Version, label,
			ready, len(rs.Instances), bar(rs.Traffic.Weight, 10), rs.Traffic.Weight, rs.Traffic.Requests, rs.Traffic.Errors, rs.Traffic.P99)
		for j, in := range rs.Instances {
			leaf := "├──"
			if j == len(rs.Instances)-1 {
				leaf = "└──"
			}
			state := fmt.Sprintf("%s %s", instanceIcon(in), in.State)
			if in.Restarts > 0 {
				state += fmt.Sprintf(", %d restarts", in.Restarts)
			}
			if in.LastExit != "" && !in.Ready {
				state += ": " + in.LastExit
			}
			age := "-"
			if !in.StartedAt.IsZero() {
				age = humanAge(now.Sub(in.StartedAt))
			}
			fmt.Fprintf(tw, "%s%s□ %s\t%s\t\t\t\t\t%s\n", stem, leaf, in.ID, state, age)
		}
	}
	tw.Flush()
	if st.Unrouted > 0 {
		fmt.Fprintf(&b, "%d request(s) found no ready instance and were answered 503\n", st.Unrouted)
	}
	printConditions(&b, st.Conditions)
	printScrapes(&b, st)
	return b.String()
}

// stepIcon marks step i of ro: done, current (paused or running), or to come.
func stepIcon(i int, ro *rollout.Rollout) string {
	switch {
	case i < ro.Step || ro.Phase == rollout.Succeeded:
		return "✔"
	case i > ro.Step:
		return "○"
	case ro.Phase == rollout.Paused:
		return "॥"
	case ro.Phase.Final():
		return "✖"
	}
	return "▶"
}

// analysisState says what the analysis of ro does: judging, passed, or the
// trigger that rolled it back; empty when its strategy has no analysis.
func analysisState(ro *rollout.Rollout, d rollout.Description) string {
	if info, ok := ro.Reason.Info(); ok && info.Group == "Analysis" {
		return fmt.Sprintf("✖ %s: %s", ro.Reason, ro.Message)
	}
	if !d.Analysis {
		return ""
	}
	switch {
	case ro.Phase == rollout.Succeeded:
		return "✔ passed"
	case ro.Phase.Final():
		return "- stopped with the rollout"
	}
	return fmt.Sprintf("◌ judging revision %d against %d", ro.ToRevision, ro.FromRevision)
}

func instanceIcon(in rollout.Instance) string {
	switch {
	case in.Ready:
		return "✔"
	case in.State == rollout.Running || in.State == rollout.Starting:
		return "◌"
	}
	return "✖"
}

// bar draws pct (0–100) as a bar of width cells.
func bar(pct float64, width int) string {
	full := int(pct/100*float64(width) + 0.5)
	full = max(0, min(width, full))
	return "[" + strings.Repeat("█", full) + strings.Repeat("░", width-full) + "]"
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// printStatus renders a Status for people.
func printStatus(w io.Writer, st api.Status) {
	fmt.Fprintf(w, "%s in %s", st.App, st.Env)
	if st.ProxyAddr != "" {
		fmt.Fprintf(w, " (proxy http://%s)", st.ProxyAddr)
	}
	fmt.Fprintln(w)
	if dp := st.DataPlane; dp != nil {
		fmt.Fprintf(w, "data plane: %s\n", dataPlaneLine(dp))
	}
	if ro := st.Rollout; ro != nil {
		fmt.Fprintf(w, "rollout %d: %s, revision %d -> %d (%s)", ro.ID, ro.Phase, ro.FromRevision, ro.ToRevision, ro.Strategy)
		if ro.Reason != "" {
			fmt.Fprintf(w, " %s", ro.Reason)
		}
		fmt.Fprintln(w)
		if ro.Message != "" {
			fmt.Fprintf(w, "  %s\n", ro.Message)
		}
		if st.Waiting != "" {
			fmt.Fprintf(w, "  %s\n", st.Waiting)
		}
	} else {
		fmt.Fprintln(w, "never deployed")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tVERSION\tREADY\tWEIGHT\tREQUESTS\t5XX\tP50\tP99\tUSERS\tINSTANCES")
	for _, rs := range st.Revisions {
		ready := 0
		var inst []string
		for _, in := range rs.Instances {
			if in.Ready {
				ready++
			}
			s := fmt.Sprintf("%s:%s", in.ID, in.State)
			if in.Restarts > 0 {
				s += fmt.Sprintf("(%d restarts)", in.Restarts)
			}
			inst = append(inst, s)
		}
		mark := ""
		if rs.Number == st.Stable && rs.Group == "" {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%d/%d\t%.0f%%\t%d\t%d\t%.1fms\t%.1fms\t%.0f\t%s\n", rs.Name(), mark, rs.Version, ready, len(rs.Instances),
			rs.Traffic.Weight, rs.Traffic.Requests, rs.Traffic.Errors, rs.Traffic.P50, rs.Traffic.P99, rs.Traffic.ActiveUsers, strings.Join(inst, " "))
	}
	tw.Flush()
	if st.Unrouted > 0 {
		fmt.Fprintf(w, "%d request(s) found no ready instance and were answered 503\n", st.Unrouted)
	}
	printConditions(w, st.Conditions)
	printScrapes(w, st)
}

// printConditions prints an environment's conditions, one a line.
func printConditions(w io.Writer, conds []rollout.Condition) {
	for _, c := range conds {
		fmt.Fprintf(w, "condition %s since %s (%d time(s), last %s): %s\n", c.Type, c.Since.Format(time.RFC3339), c.Count, c.LastSeen.Format(time.RFC3339), c.Message)
	}
}

// dataPlaneLine renders the data plane's health on one line.
func dataPlaneLine(dp *api.DataPlane) string {
	s := fmt.Sprintf("%s (gantry proxy pid %d, since %s)", dp.State, dp.PID, dp.Since.Format(time.TimeOnly))
	if dp.StandbyPID != 0 {
		s += fmt.Sprintf(", standby pid %d", dp.StandbyPID)
	}
	if c := dp.LastCrash; c != nil {
		by := "a new process"
		if c.Standby {
			by = "the standby"
		}
		s += fmt.Sprintf(", restarted %d time(s); last crash: %s served after %d ms, %d request(s) in flight lost, %d listener(s) held (%d connection(s) waited)",
			dp.Restarts, by, c.DowntimeMs, c.InFlight, c.HeldListeners, c.Queued)
	} else if dp.Restarts > 0 {
		s += fmt.Sprintf(", restarted %d time(s), %d request(s) lost in the last crash", dp.Restarts, dp.Lost)
	}
	if dp.State != "Up" && dp.Reason != "" {
		s += ": " + dp.Reason + "; new rollouts wait until it is Up"
	}
	return s
}
