// Package release owns the release record of a version in an environment:
// its gate checklist, approvers, the pipeline's stage timings and its
// release notes, read from a CHANGELOG section. Build assembles a Record
// from facts read elsewhere; Notes finds a version's section in a
// changelog. Nothing here does I/O.
package release

import (
	"bufio"
	"bytes"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/gate"
	"github.com/gantry-dev/gantry/pipeline"
)

// Record is one release: a version deployed to an environment.
type Record struct {
	App     string `json:"app"`
	Env     string `json:"env"`
	Version string `json:"version"`
	// Revision and SpecDigest are the revision that runs the version and
	// the digest of its resolved spec; 0 and "" when never deployed.
	Revision   int    `json:"revision,omitempty"`
	SpecDigest string `json:"specDigest,omitempty"`
	// RolloutID and Phase are the newest rollout of the version there.
	RolloutID int64  `json:"rolloutId,omitempty"`
	Phase     string `json:"phase,omitempty"`
	// DeployedBy is who asked for the deploy.
	DeployedBy string    `json:"deployedBy,omitempty"`
	StartedAt  time.Time `json:"startedAt,omitzero"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
	// Gates is the go/no-go checklist of the deploy that went ahead (or,
	// when none did, of the last refused one).
	Gates gate.Checklist `json:"gates"`
	// Override is the emergency override's reason; empty: none.
	Override string `json:"override,omitempty"`
	// Approvers approved the version in the environment.
	Approvals []gate.Approval `json:"approvals"`
	// PipelineRun is the run that carried the version, 0: none; Stages are
	// its stages with their timings.
	PipelineRun int64            `json:"pipelineRun,omitempty"`
	Stages      []pipeline.Stage `json:"stages,omitempty"`
	// Notes are the release notes; NotesSource says where they came from.
	Notes       string `json:"notes,omitempty"`
	NotesSource string `json:"notesSource,omitempty"`
}

// Facts are what Build assembles.
type Facts struct {
	App, Env, Version string
	Revision          int
	SpecDigest        string
	RolloutID         int64
	Phase             string
	DeployedBy        string
	StartedAt         time.Time
	FinishedAt        time.Time
	// Checks are the version's deploy checks in the environment, oldest first.
	Checks    []pipeline.Check
	Approvals []gate.Approval
	// Runs are the app's pipeline runs, newest first.
	Runs        []pipeline.Run
	Notes       string
	NotesSource string
}

// Build assembles the record: the checklist of the deploy that started
// the rollout (else the newest check), and the newest run of the version.
func Build(f Facts) Record {
	r := Record{App: f.App, Env: f.Env, Version: f.Version, Revision: f.Revision, SpecDigest: f.SpecDigest,
		RolloutID: f.RolloutID, Phase: f.Phase, DeployedBy: f.DeployedBy, StartedAt: f.StartedAt, FinishedAt: f.FinishedAt,
		Approvals: f.Approvals, Notes: f.Notes, NotesSource: f.NotesSource, Gates: gate.Checklist{}}
	if r.Approvals == nil {
		r.Approvals = []gate.Approval{}
	}
	for i := len(f.Checks) - 1; i >= 0; i-- {
		c := f.Checks[i]
		if c.RolloutID == f.RolloutID || i == len(f.Checks)-1 && len(r.Gates) == 0 {
			r.Gates, r.Override = c.Checklist, c.Override
			if c.RolloutID == f.RolloutID {
				break
			}
		}
	}
	for _, run := range f.Runs {
		if run.Version == f.Version {
			r.PipelineRun, r.Stages = run.ID, run.Stages
			break
		}
	}
	return r
}

// Notes returns the section of a Keep a Changelog style file for
// version: the lines after the heading that names it ("## [1.4.0] -
// 2026-11-29", "## 1.4.0", "## v1.4.0") up to the next heading of the
// same or a higher level. ok is false when no heading names it.
func Notes(changelog []byte, version string) (notes string, ok bool) {
	want := strings.TrimPrefix(version, "v")
	var out []string
	level := 0
	sc := bufio.NewScanner(bytes.NewReader(changelog))
	for sc.Scan() {
		line := sc.Text()
		if h := headingLevel(line); h > 0 {
			if level > 0 && h <= level {
				break
			}
			if level == 0 && headingNames(line, want) {
				level = h
				continue
			}
		}
		if level > 0 {
			out = append(out, line)
		}
	}
	return strings.TrimSpace(strings.Join(out, "\n")), level > 0
}

func headingLevel(line string) int {
	n := 0
	for n < len(line) && line[n] == '#' {
		n++
	}
	if n == 0 || n >= len(line) || line[n] != ' ' {
		return 0
	}
	return n
}

// headingNames says whether a heading's first word is the version,
// bracketed or with a leading v.
func headingNames(line, version string) bool {
	words := strings.Fields(strings.TrimLeft(line, "#"))
	if len(words) == 0 {
		return false
	}
	w := strings.Trim(words[0], "[]")
	return strings.TrimPrefix(w, "v") == version
}
