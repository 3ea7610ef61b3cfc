package spec

import "fmt"

// The plan's autoscaling, used for every field a spec leaves zero.
const (
	DefaultMinReplicas                    = 3
	DefaultMaxReplicas                    = 10
	DefaultTargetCPUUtilizationPercentage = 70
)

// KubernetesAutoscaling puts the stable revision under a Kubernetes
// HorizontalPodAutoscaler (autoscaling/v2) between rollouts: gantry
// creates it for the stable revision's ReplicaSet, a rollout starts from
// the replica count the autoscaler reached and runs every step at that
// count, and the autoscaler moves to the new stable revision when the
// rollout ends. The kubernetes backend only; its zero value is the plan's
// 3 to 10 replicas at 70% CPU.
type KubernetesAutoscaling struct {
	// MinReplicas is the fewest replicas the autoscaler keeps. Zero: 3.
	MinReplicas int `json:"minReplicas,omitempty"`
	// MaxReplicas is the most it scales to. Zero: 10.
	MaxReplicas int `json:"maxReplicas,omitempty"`
	// TargetCPUUtilizationPercentage is the average CPU use it aims at, in
	// percent of the pods' CPU request (over 100 is allowed). Zero: 70.
	TargetCPUUtilizationPercentage int `json:"targetCPUUtilizationPercentage,omitempty"`
}

// Min returns MinReplicas, 3 when unset.
func (a KubernetesAutoscaling) Min() int { return intOrDefault(a.MinReplicas, DefaultMinReplicas) }

// Max returns MaxReplicas, 10 when unset.
func (a KubernetesAutoscaling) Max() int { return intOrDefault(a.MaxReplicas, DefaultMaxReplicas) }

// TargetCPU returns TargetCPUUtilizationPercentage, 70 when unset.
func (a KubernetesAutoscaling) TargetCPU() int {
	return intOrDefault(a.TargetCPUUtilizationPercentage, DefaultTargetCPUUtilizationPercentage)
}

func intOrDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func (v *validator) autoscaling(path string, a *KubernetesAutoscaling) {
	if a == nil {
		return
	}
	if a.MinReplicas < 0 {
		v.add(joinField(path, "minReplicas"), "%d is negative; set at least 1, or leave it out for %d", a.MinReplicas, DefaultMinReplicas)
	}
	if a.MaxReplicas < 0 {
		v.add(joinField(path, "maxReplicas"), "%d is negative; set at least minReplicas, or leave it out for %d", a.MaxReplicas, DefaultMaxReplicas)
	}
	if a.MinReplicas >= 0 && a.MaxReplicas >= 0 && a.Max() < a.Min() {
		field := "maxReplicas"
		if a.MaxReplicas == 0 {
			field = "minReplicas"
		}
		v.add(joinField(path, field), "maxReplicas %d is below minReplicas %d; raise maxReplicas or lower minReplicas", a.Max(), a.Min())
	}
	if a.TargetCPUUtilizationPercentage < 0 {
		v.add(joinField(path, "targetCPUUtilizationPercentage"), "%d is negative; give a percentage of the CPU request such as 70 (the default)", a.TargetCPUUtilizationPercentage)
	}
}

// String renders the autoscaling as the plan says it: "3-10 replicas at 70% CPU".
func (a KubernetesAutoscaling) String() string {
	return fmt.Sprintf("%d-%d replicas at %d%% CPU", a.Min(), a.Max(), a.TargetCPU())
}
