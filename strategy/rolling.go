package strategy

import (
	"fmt"
	"slices"

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

// Describe implements rollout.Strategy: one step, no analysis (a rolling
// update is judged by its instances' health), no preview listener.
func (Rolling) Describe(spec.AppSpec) rollout.Description {
	return rollout.Description{Steps: []string{"rolling update"}}
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
	for i, c := range olds {
		if keep[i] > 0 {
			replicas[c.Revision] = keep[i]
		}
	}

	complete := target.Available >= want && target.Total == want && total == target.Total
	return rollout.Plan{
		Replicas: replicas,
		Traffic:  rollout.Traffic{}, // even over ready instances
		Step:     in.Step,
		Complete: complete,
		Message:  rollingMessage(in, want, target, olds),
	}
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
