package strategy

import (
	"fmt"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// Canary runs the new revision beside the stable one and moves traffic to
// it step by step, in Argo Rollouts' vocabulary: setWeight sends that share
// of requests to the canary (with enough canary instances to carry it),
// pause waits (for a duration, or until promoted). A new weight applies
// once the canary has the instances to carry it; until then the previous
// step's split holds. The stable revision keeps all its instances until
// the end, so a rollback is an instant switch.
//
// A step that leaves the canary with part of the traffic (0 < weight < 100)
// is left only with evidence that the canary is not worse than the stable
// revision (AnalysisResult.Promote), never merely because time passed or
// nothing was seen; a setWeight step followed by a pause leaves the
// evidence to the pause. After the last step the canary takes everything:
// it scales to the full replica count, gets all traffic, and the stable
// revision is scaled away.
//
// Unless spec.analysis.baseline is "primary", a step with the canary at a
// partial weight also runs a like-for-like baseline (Plan.Baseline):
// fresh instances of the stable revision, as many as the canary's, with
// the canary's weight (at most the rest of the traffic), started with the
// canary's, which the analysis compares the canary with; the stable
// revision's primary instances serve what is left. A new split applies
// once both the canary and its baseline can carry it. The baseline goes
// when the canary takes everything or is rolled back.
type Canary struct{}

var _ rollout.Strategy = Canary{}

// Describe implements rollout.Strategy: the spec's steps (or the plan's
// default steps) and a last one, the full promotion; analysed; no preview
// listener.
func (Canary) Describe(s spec.AppSpec) rollout.Description {
	steps := canarySteps(s)
	names := make([]string, 0, len(steps)+1)
	for i, st := range steps {
		switch {
		case st.SetWeight != nil:
			names = append(names, fmt.Sprintf("setWeight %d%%", *st.SetWeight))
		case st.SetFlag != nil:
			names = append(names, fmt.Sprintf("setFlag %s %g%%", st.SetFlag.Name, st.SetFlag.Percentage))
		case st.Pause != nil && st.Pause.Wait() == 0:
			names = append(names, "pause until promoted")
		case st.Pause != nil:
			names = append(names, "pause "+st.Pause.Wait().String())
		default:
			names = append(names, fmt.Sprintf("step %d", i+1))
		}
	}
	return rollout.Description{Steps: append(names, "promote fully"), Analysis: true, Baseline: s.Analysis.LikeForLike()}
}

// Plan implements rollout.Strategy.
func (Canary) Plan(in rollout.PlanInput) rollout.Plan {
	steps := canarySteps(in.Spec)
	want := in.Spec.ReplicaCount()
	canary := in.Count(in.Target)
	if in.Step >= len(steps) {
		return promoteFully(in, want, canary, len(steps))
	}
	weight := weightAt(steps, in.Step)
	need := canaryReplicas(want, weight)
	likeForLike := in.Spec.Analysis.LikeForLike() && in.Stable != 0
	plan := rollout.Plan{
		Replicas: map[int]int{in.Target: need},
		Step:     in.Step,
	}
	plan.Traffic = canaryTraffic(in, weight, likeForLike)
	if in.Stable != 0 {
		plan.Replicas[in.Stable] = want
	}
	if likeForLike {
		plan.Baseline = baselineReplicas(want, weight)
	}
	label := fmt.Sprintf("step %d/%d", in.Step+1, len(steps))
	step := steps[in.Step]
	ready := canary.Available >= need && in.Baseline.Available >= plan.Baseline

	switch {
	case step.SetWeight != nil:
		switch {
		case !ready:
			// Keep the previous step's split until the canary can carry the new one.
			plan.Traffic = canaryTraffic(in, weightAt(steps, in.Step-1), plan.Baseline > 0)
			plan.Message = fmt.Sprintf("%s setWeight %d%%: waiting for canary instances, %d/%d available", label, weight, canary.Available, need)
			if plan.Baseline > 0 {
				plan.Message += fmt.Sprintf(", baseline %d/%d", in.Baseline.Available, plan.Baseline)
			}
		case needsEvidence(weight) && !nextIsPause(steps, in.Step) && !in.Analysis.Promote:
			plan.Message = fmt.Sprintf("%s setWeight %d%%: holding for evidence: %s", label, weight, in.Analysis.Message)
		default:
			plan.Step = in.Step + 1
			plan.Message = fmt.Sprintf("%s setWeight %d%% done", label, weight)
		}
	case step.SetFlag != nil:
		plan.SetFlag = &rollout.FlagSetting{Name: step.SetFlag.Name, Percentage: step.SetFlag.Percentage}
		plan.Message = fmt.Sprintf("%s setFlag %s %g%% at weight %d%%", label, step.SetFlag.Name, step.SetFlag.Percentage, weight)
	case step.Pause != nil && step.Pause.Wait() == 0:
		plan.Pause = true
		plan.Message = fmt.Sprintf("%s paused at %d%% until promoted (gantry rollout promote); analysis: %s", label, weight, in.Analysis.Message)
	case step.Pause != nil:
		// A timed pause watches the canary: it starts again after a
		// restart of gantry or of a canary instance.
		left := step.Pause.Wait() - in.Watched()
		switch {
		case left > 0:
			plan.Message = fmt.Sprintf("%s pause at %d%%: %s left; analysis: %s", label, weight, left.Round(time.Second), in.Analysis.Message)
		case needsEvidence(weight) && !in.Analysis.Promote:
			plan.Message = fmt.Sprintf("%s pause at %d%% over; holding for evidence: %s", label, weight, in.Analysis.Message)
		default:
			plan.Step = in.Step + 1
			plan.Message = fmt.Sprintf("%s pause at %d%% done: %s", label, weight, in.Analysis.Message)
		}
	}
	return plan
}

// promoteFully makes the canary the only revision: full replica count,
// then all traffic, then the stable revision scaled away.
func promoteFully(in rollout.PlanInput, want int, canary rollout.RevisionCount, step int) rollout.Plan {
	plan := rollout.Plan{Replicas: map[int]int{in.Target: want}, Step: step}
	others := 0
	for _, c := range in.Revisions {
		if c.Revision != in.Target {
			others += c.Total
		}
	}
	if canary.Available < want {
		// Keep the split of the last step until the canary can carry it
		// all; the baseline has nothing left to judge and goes.
		plan.Traffic = canaryTraffic(in, weightAt(canarySteps(in.Spec), step-1), false)
		if in.Stable != 0 {
			plan.Replicas[in.Stable] = want
		}
		plan.Message = fmt.Sprintf("promoting: scaling the canary to %d, %d/%d available", want, canary.Available, want)
		return plan
	}
	plan.Traffic = rollout.Traffic{Weights: map[int]int{in.Target: 100}}
	plan.Complete = others == 0 && canary.Total == want
	plan.Message = fmt.Sprintf("promoted: revision %d takes all traffic; %d old instance(s) remaining", in.Target, others)
	return plan
}

func canarySteps(s spec.AppSpec) []spec.CanaryStep {
	if s.Strategy.Canary != nil && len(s.Strategy.Canary.Steps) > 0 {
		return s.Strategy.Canary.Steps
	}
	return spec.DefaultCanarySteps()
}

// weightAt is the canary's weight at step i: the last setWeight at or before it.
func weightAt(steps []spec.CanaryStep, i int) int {
	for ; i >= 0; i-- {
		if i < len(steps) && steps[i].SetWeight != nil {
			return *steps[i].SetWeight
		}
	}
	return 0
}

// canaryTraffic splits traffic with the canary at weight percent: with a
// like-for-like baseline, the baseline gets as much (at most the rest)
// and the stable revision's primary instances what is left.
func canaryTraffic(in rollout.PlanInput, weight int, likeForLike bool) rollout.Traffic {
	t := rollout.Traffic{Weights: map[int]int{in.Target: weight}}
	if in.Stable == 0 {
		return t
	}
	if likeForLike && needsEvidence(weight) {
		t.Baseline = baselineWeight(weight)
	}
	t.Weights[in.Stable] = 100 - weight - t.Baseline
	return t
}

// baselineWeight is the like-for-like baseline's share beside a canary at
// weight percent: the same, at most the rest.
func baselineWeight(weight int) int { return min(weight, 100-weight) }

// baselineReplicas is how many baseline instances run beside a canary at
// weight percent of want's traffic: as many as the canary has, none when
// the canary needs no evidence at that weight.
func baselineReplicas(want, weight int) int {
	if !needsEvidence(weight) {
		return 0
	}
	return canaryReplicas(want, weight)
}

// canaryReplicas is how many canary instances carry weight percent of
// want's traffic: rounded up, at least one while the weight is above zero.
func canaryReplicas(want, weight int) int {
	if weight <= 0 {
		return 0
	}
	return max(1, (want*weight+99)/100)
}

// needsEvidence: a step at this weight is left only on evidence.
func needsEvidence(weight int) bool { return weight > 0 && weight < 100 }

func nextIsPause(steps []spec.CanaryStep, i int) bool {
	return i+1 < len(steps) && steps[i+1].Pause != nil
}
