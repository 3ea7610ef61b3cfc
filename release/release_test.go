package release

import (
	"testing"

	"github.com/gantry-dev/gantry/gate"
	"github.com/gantry-dev/gantry/pipeline"
)

const changelog = `# Changelog

## [Unreleased]
- nothing yet

## [1.4.0] - 2026-11-29
### Added
- streaming answers

### Fixed
- timeouts on long prompts

## [1.3.0] - 2026-11-01
- earlier
`

func TestNotes(t *testing.T) {
	tests := []struct {
		version, want string
		ok            bool
	}{
		{"1.4.0", "### Added\n- streaming answers\n\n### Fixed\n- timeouts on long prompts", true},
		{"v1.3.0", "- earlier", true},
		{"1.4", "", false},
	}
	for _, tc := range tests {
		got, ok := Notes([]byte(changelog), tc.version)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Notes(%s) = %q, %v; want %q, %v", tc.version, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBuild(t *testing.T) {
	refused := pipeline.Check{RolloutID: 0, Checklist: gate.Checklist{{Gate: gate.WindowGate, Status: gate.Fail}}}
	went := pipeline.Check{RolloutID: 9, Override: "INC-7", Checklist: gate.Checklist{{Gate: gate.WindowGate, Status: gate.Overridden}}}
	r := Build(Facts{Version: "1.4.0", RolloutID: 9, Checks: []pipeline.Check{refused, went},
		Runs: []pipeline.Run{{ID: 3, Version: "1.5.0"}, {ID: 2, Version: "1.4.0", Stages: []pipeline.Stage{{Env: "staging"}}}}})
	if r.Override != "INC-7" || r.Gates[0].Status != gate.Overridden || r.PipelineRun != 2 || len(r.Stages) != 1 {
		t.Errorf("record = %+v", r)
	}
	r = Build(Facts{Version: "1.4.0", Checks: []pipeline.Check{refused}})
	if len(r.Gates) != 1 || r.Gates[0].Status != gate.Fail {
		t.Errorf("refused only: %+v", r.Gates)
	}
}
