// Package strategy holds gantry's rollout strategies, one file each. Every
// strategy is a pure planner: given the instances that run now and the
// rollout's stored step state, it returns how many instances each revision
// should have and how traffic is split (rollout.Plan). No I/O, no clock.
package strategy
