package strategy

import (
	"fmt"
	"slices"
	"time"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// Rolling replaces instances a few at a time, as a Kubernetes Deployment's
// RollingUpdate does: at most replicas+maxSurge instances exist, at least
// replicas-maxUnavailable are available, and traffic is spread evenly over
// every ready instance of every revision. With the plan's defaults
// (maxSurge 1, maxUnavailable 0) it starts one new instance, waits until it
// is available, stops one old instance, and repeats.
type Rolling struct{}

var _ rollout.Strategy = Rolling{}

// Describe implements rollout.Strategy: the instances are replaced, then
// the last old one is kept as the analysis' baseline until the new
// revision is shown not worse (RollingEvidenceWait at most); the analysis
// judges the new instances against the old ones throughout; no preview
// listener.
func (Rolling) Describe(spec.AppSpec) rollout.Description {
	return rollout.Description{Steps: []string{"rolling update", "judging against the last old instance"}, Analysis: true}
}

// Plan implements rollout.Strategy.
func (Rolling) Plan(in rollout.PlanInput) rollout.Plan {
	want := in.Spec.ReplicaCount()
	surge := in.Spec.MaxSurgeCount()
	unavailable := in.Spec.MaxUnavailableCount()
	target := in.Count(in.Target)

	var total int
	var olds []rollout.RevisionCount
	for _, c := range in.Revisions {
		total += c.Total
		if c.Revision != in.Target {
			olds = append(olds, c)
		}
	}
	// Oldest revisions go first.
	slices.SortFunc(olds, func(a, b rollout.RevisionCount) int { return a.Revision - b.Revision })

	replicas := map[int]int{}
	// Scale the target up within the surge budget, never beyond want.
	newCount := target.Total
	if room := want + surge - total; room > 0 {
		newCount = target.Total + room
	}
	newCount = min(newCount, want)
	replicas[in.Target] = newCount

	// Scale old revisions down while enough instances stay available, as a
	// Deployment does: old instances that are not available go first (they
	// serve nothing), then available ones down to replicas-maxUnavailable.
	minAvailable := want - unavailable
	allPods := newCount
	allAvailable := target.Available
	for _, c := range olds {
		allPods += c.Total
		allAvailable += c.Available
	}
	budget := allPods - minAvailable - (newCount - target.Available)
	keep := make([]int, len(olds))
	for i, c := range olds {
		keep[i] = c.Total
		drop := max(min(budget, c.Total-c.Available), 0)
		keep[i] -= drop
		budget -= drop
	}
	spare := min(allAvailable-minAvailable, budget)
	for i := range olds {
		drop := max(min(spare, keep[i]), 0)
		keep[i] -= drop
		spare -= drop
	}
	hold := holdBaseline(in, olds, keep)
	for i, c := range olds {
		if c.Revision == in.Stable && hold {
			keep[i] = max(keep[i], 1)
		}
		if keep[i] > 0 {
			replicas[c.Revision] = keep[i]
		}
	}

	complete := target.Available >= want && target.Total == want && total == target.Total
	plan := rollout.Plan{
		Replicas: replicas,
		Traffic:  rollout.Traffic{}, // even over ready instances
		Step:     in.Step,
		Complete: complete,
		Message:  rollingMessage(in, want, target, olds),
	}
	if hold {
		plan.Step = 1
		left := RollingEvidenceWait
		if in.Step == 1 {
			left -= in.Now.Sub(in.StepStartedAt)
		}
		plan.Message = fmt.Sprintf("revision %d: %d/%d available; keeping one instance of revision %d as the analysis' baseline until revision %d is shown not worse (at most %s more): %s",
			in.Target, target.Available, want, in.Stable, in.Target, left.Round(time.Second), in.Analysis.Message)
	}
	return plan
}

// RollingEvidenceWait bounds how long a rolling update keeps the last
// instance of the stable revision, once every other instance is replaced,
// waiting for the analysis to show the new revision not worse. While it
// waits, the analysis compares the new instances with that one (traffic
// is even over instances) and rolls back a worse revision.
const RollingEvidenceWait = 30 * time.Second

// holdBaseline reports whether the plan, which would remove the stable
// revision's last instances, keeps one: while the analysis judges, has
// neither shown the target not worse nor gone idle, and the wait is not
// over.
func holdBaseline(in rollout.PlanInput, olds []rollout.RevisionCount, keep []int) bool {
	a := in.Analysis
	if !a.Judging || a.Promote || a.Idle || in.Stable == 0 {
		return false
	}
	if in.Step == 1 && in.Now.Sub(in.StepStartedAt) >= RollingEvidenceWait {
		return false
	}
	for i, c := range olds {
		if c.Revision == in.Stable {
			return keep[i] == 0 && c.Available > 0
		}
	}
	return false
}

func rollingMessage(in rollout.PlanInput, want int, target rollout.RevisionCount, olds []rollout.RevisionCount) string {
	old := 0
	for _, c := range olds {
		old += c.Total
	}
	switch {
	case target.Available >= want && old == 0:
		return fmt.Sprintf("revision %d: %d/%d available", in.Target, target.Available, want)
	case target.Total > target.Available:
		return fmt.Sprintf("waiting for revision %d to become available: %d/%d available, %d old instance(s) remaining",
			in.Target, target.Available, want, old)
	default:
		return fmt.Sprintf("revision %d: %d/%d available, %d old instance(s) remaining", in.Target, target.Available, want, old)
	}
}
