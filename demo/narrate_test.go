package demo

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/rollout"
)

// screenLines returns the lines out leaves on a terminal: a carriage
// return starts its line again, so only what follows the last one counts.
func screenLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if i := strings.LastIndex(l, "\r"); i >= 0 {
			l = l[i+1:]
		}
		lines = append(lines, strings.ReplaceAll(l, "\x1b[2K", ""))
	}
	return lines
}

func checkWidth(t *testing.T, out string) {
	t.Helper()
	for _, l := range screenLines(out) {
		if n := utf8.RuneCountInString(l); n > Width {
			t.Errorf("a line of %d columns, want at most %d:\n%s", n, Width, l)
		}
	}
}

// wideStatus is a rollout between two revisions with long versions.
var wideStatus = api.Status{
	Rollout: &rollout.Rollout{ID: 12, Phase: rollout.Progressing},
	Revisions: []api.RevisionStatus{
		{Number: 11, Version: "v11+build.20261129.abcdef", Instances: make([]rollout.Instance, 3), Traffic: api.RevisionTraffic{Weight: 75, Errors: 12345}},
		{Number: 12, Version: "v12+build.20261129.fedcba", Instances: make([]rollout.Instance, 2), Traffic: api.RevisionTraffic{Weight: 25, Errors: 6789}},
	},
}

const longEvent = "revision 2: 3/3 available; keeping one instance of revision 1 as the analysis' baseline until revision 2 is shown not worse (at most 30s more): WarmUp: warming up, not compared yet"

func TestNarrator_Plain(t *testing.T) {
	var out bytes.Buffer
	n := newNarrator(&out, false)
	n.say("   event %-8s %-24s %s", "Normal", "StepCompleted", longEvent)
	n.show("   " + progressLine(wideStatus, nil))
	n.show("   a second progress line within the second is not printed")
	n.endProgress()
	got := out.String()
	if strings.Contains(got, "\x1b") || strings.Contains(got, "\r") {
		t.Errorf("plain output has terminal control characters:\n%q", got)
	}
	checkWidth(t, got)
	if !strings.Contains(got, "WarmUp: warming up") || !strings.Contains(got, "v12+build.20261129.fedcba") {
		t.Errorf("plain output lost words of the event or the progress:\n%s", got)
	}
	if strings.Contains(got, "a second progress line") {
		t.Errorf("plain output printed two progress lines within a second:\n%s", got)
	}
	if lines := strings.Split(got, "\n"); !strings.HasPrefix(lines[1], strings.Repeat(" ", 14)) {
		t.Errorf("a wrapped event line is not indented under its message:\n%s", got)
	}
}

func TestNarrator_Terminal(t *testing.T) {
	var out bytes.Buffer
	n := newNarrator(&out, true)
	n.show("   " + progressLine(wideStatus, nil) + " | and more than fits in a hundred columns")
	n.say("   event %-8s %-24s %s", "Normal", "StepCompleted", longEvent)
	n.show("   rollout 12 Succeeded")
	n.endProgress()
	got := out.String()
	checkWidth(t, got)
	if c := strings.Count(got, "\r\x1b[2K"); c < 3 {
		t.Errorf("the progress line was redrawn in place %d times, want 3 (shown, cleared for an event, shown):\n%q", c, got)
	}
	screen := screenLines(got)
	if last := screen[len(screen)-2]; !strings.HasSuffix(last, "rollout 12 Succeeded") {
		t.Errorf("the last progress does not stay on screen: %q", last)
	}
	if !strings.Contains(got, "…") {
		t.Errorf("a progress line wider than the screen was not cut with …:\n%q", got)
	}
}
