package strategy

import (
	"fmt"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// BlueGreen deploys the new revision (green) beside the stable one (blue)
// at full size, reachable only on the preview listener; runs the smoke
// tests against it; switches all traffic at once (automatically, or when
// promoted); keeps blue running for scaleDownDelaySeconds while the
// analysis watches green, so that a rollback is an instant switch back;
// and scales blue away only after that window passed clean.
type BlueGreen struct{}

var _ rollout.Strategy = BlueGreen{}

// The steps of a blue-green rollout, as stored in Rollout.Step.
const (
	BlueGreenDeploy   = 0 // green scales up beside blue
	BlueGreenSmoke    = 1 // smoke tests run against green
	BlueGreenPromote  = 2 // waiting for promotion (or promoting automatically)
	BlueGreenSwitched = 3 // green serves; blue waits for the delay to pass
	BlueGreenCleanup  = 4 // blue scales away
)

// blueGreenSteps names the steps, indexed by the constants above.
var blueGreenSteps = []string{"deploy green", "smoke tests", "promotion", "scale-down delay", "decommission blue"}

// Describe implements rollout.Strategy: five steps, the last
// (BlueGreenCleanup) is where a full promotion jumps to; analysed; green is
// served on a preview listener until the switch.
func (BlueGreen) Describe(s spec.AppSpec) rollout.Description {
	d := rollout.Description{Steps: blueGreenSteps, Analysis: true, Preview: true}
	if bg := s.Strategy.BlueGreen; bg != nil {
		d.PreviewListen = bg.PreviewListen
	}
	return d
}

// Plan implements rollout.Strategy.
func (BlueGreen) Plan(in rollout.PlanInput) rollout.Plan {
	want := in.Spec.ReplicaCount()
	bg := in.Spec.Strategy.BlueGreen
	if bg == nil {
		bg = &spec.BlueGreenStrategy{}
	}
	green := in.Count(in.Target)
	plan := rollout.Plan{Replicas: map[int]int{in.Target: want}, Step: in.Step}
	blueServes := rollout.Traffic{Preview: in.Target}
	if in.Stable != 0 {
		plan.Replicas[in.Stable] = want
		blueServes.Weights = map[int]int{in.Stable: 100}
	}
	switch in.Step {
	case BlueGreenDeploy:
		plan.Traffic = blueServes
		if green.Available >= want {
			plan.Step = BlueGreenSmoke
			plan.Message = fmt.Sprintf("green (revision %d) is up: %d/%d available", in.Target, green.Available, want)
		} else {
			plan.Message = fmt.Sprintf("deploying green (revision %d) beside blue: %d/%d available", in.Target, green.Available, want)
		}
	case BlueGreenSmoke:
		plan.Traffic = blueServes
		plan.SmokeTests = true
		plan.Message = fmt.Sprintf("running %d smoke test(s) against green on the preview listener", len(bg.SmokeTests))
	case BlueGreenPromote:
		plan.Traffic = blueServes
		if bg.AutoPromote() {
			plan.Step = BlueGreenSwitched
			plan.Message = "smoke tests passed; switching traffic to green"
		} else {
			plan.Pause = true
			plan.Message = "smoke tests passed; waiting for promotion (gantry rollout promote)"
		}
	case BlueGreenSwitched:
		plan.Traffic = rollout.Traffic{Weights: map[int]int{in.Target: 100}}
		// The delay is green running clean under this server's watch: it
		// starts again after a restart of gantry or of a green instance.
		left := bg.ScaleDownDelay() - in.Watched()
		if left > 0 {
			plan.Message = fmt.Sprintf("green serves; blue kept for a quick switch back for %s more; analysis: %s", left.Round(time.Second), in.Analysis.Message)
		} else {
			plan.Step = BlueGreenCleanup
			plan.Message = "green stayed healthy through the scale-down delay; decommissioning blue; analysis: " + in.Analysis.Message
		}
	default:
		plan.Traffic = rollout.Traffic{Weights: map[int]int{in.Target: 100}}
		delete(plan.Replicas, in.Stable)
		others := 0
		for _, c := range in.Revisions {
			if c.Revision != in.Target {
				others += c.Total
			}
		}
		plan.Complete = others == 0 && green.Available >= want
		plan.Message = fmt.Sprintf("decommissioning blue: %d instance(s) remaining", others)
	}
	return plan
}
